/**
 * A float as Python would hold it: the wire codecs render it with a decimal point
 * (`1500.0`, `<double>1500.0</double>`) even when the value is integral.
 */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}
