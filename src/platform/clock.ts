/** The source of time. Production uses the wall clock; tests pass a fake one they advance. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class FakeClock implements Clock {
  #t: number;
  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.#t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#t);
  }
  advance(ms: number): Date {
    this.#t += ms;
    return this.now();
  }
  set(t: Date | string | number): void {
    this.#t = new Date(t).getTime();
  }
}
