/**
 * Exceptions raised by the simulated ORM, named and worded as Odoo 18 raises them.
 * `pyClass` is the Python class (dotted for Odoo's own, bare for builtins such as `ValueError`;
 * JSON-RPC envelopes show builtins as `builtins.ValueError`), `message` the
 * exact text, `arguments` the exception's args tuple.
 */

export type PyExceptionClass =
  | 'odoo.exceptions.UserError'
  | 'odoo.exceptions.ValidationError'
  | 'odoo.exceptions.MissingError'
  | 'odoo.exceptions.AccessError'
  | 'odoo.exceptions.AccessDenied'
  | 'odoo.exceptions.RedirectWarning'
  | 'ValueError'
  | 'AttributeError'
  | 'TypeError'
  | 'KeyError'
  | 'psycopg2.OperationalError'
  // Any other dotted Python class name.
  | (string & {});

export class OdooException extends Error {
  readonly pyClass: PyExceptionClass;
  readonly arguments: unknown[];
  constructor(pyClass: PyExceptionClass, message: string, args?: unknown[]) {
    super(message);
    this.name = 'OdooException';
    this.pyClass = pyClass;
    this.arguments = args ?? [message];
  }
  /** The name JSON-RPC error envelopes carry in `data.name` (`builtins.ValueError` for builtins). */
  get qualifiedName(): string {
    return this.pyClass.includes('.') ? this.pyClass : `builtins.${this.pyClass}`;
  }
}

/** Python `repr` of a scalar, as Odoo's messages embed values. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'string') {
    if (v.includes("'") && !v.includes('"')) return `"${v.replace(/\\/g, '\\\\')}"`;
    return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object' && 'value' in (v as object)) return pyRepr((v as { value: unknown }).value);
  return String(v);
}

/** Python `repr` of a tuple. */
export function pyTuple(items: unknown[]): string {
  if (items.length === 1) return `(${pyRepr(items[0])},)`;
  return `(${items.map(pyRepr).join(', ')})`;
}

export function userError(message: string): OdooException {
  return new OdooException('odoo.exceptions.UserError', message);
}

export function validationError(message: string): OdooException {
  return new OdooException('odoo.exceptions.ValidationError', message);
}

export function valueError(message: string): OdooException {
  return new OdooException('ValueError', message);
}

export function typeError(message: string): OdooException {
  return new OdooException('TypeError', message);
}

export function keyError(key: string): OdooException {
  return new OdooException('KeyError', pyRepr(key), [key]);
}

export function accessDenied(): OdooException {
  return new OdooException('odoo.exceptions.AccessDenied', 'Access Denied');
}

export function accessError(message: string): OdooException {
  return new OdooException('odoo.exceptions.AccessError', message);
}

/** `Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)` */
export function missingError(model: string, ids: number[], uid: number): OdooException {
  return new OdooException(
    'odoo.exceptions.MissingError',
    `Record does not exist or has been deleted.\n(Record: ${model}${pyTuple(ids)}, User: ${uid})`,
  );
}

export function unknownModel(model: string): OdooException {
  return userError(`Object ${model} doesn't exist`);
}

export function unknownMethod(model: string, method: string): OdooException {
  return new OdooException('AttributeError', `The method '${model}.${method}' does not exist`);
}

export function privateMethod(model: string, method: string): OdooException {
  return accessError(`Private methods (such as '${model}.${method}') cannot be called remotely.`);
}

/** Unknown name in `fields`, `create`/`write` values or `groupby`. */
export function invalidField(model: string, field: string): OdooException {
  return valueError(`Invalid field ${pyRepr(field)} on model ${pyRepr(model)}`);
}

/** Unknown name in a domain leaf: `Invalid field sale.order.no_such_field in leaf ('no_such_field', '=', 1)`. */
export function invalidDomainField(model: string, field: string, leaf: unknown[]): OdooException {
  return valueError(`Invalid field ${model}.${field} in leaf ${pyTuple(leaf)}`);
}

/** `Wrong value for sale.order.state: 'bogus'` */
export function wrongSelectionValue(model: string, field: string, value: unknown): OdooException {
  return valueError(`Wrong value for ${model}.${field}: ${pyRepr(value)}`);
}

/** The NOT NULL violation as Odoo 18 rewords it for the user. */
export function mandatoryFieldError(modelDescription: string, model: string, fieldString: string, field: string): OdooException {
  return validationError(
    'The operation cannot be completed:\n' +
      '- Create/update: a mandatory field is not set.\n' +
      '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
      `Model: ${modelDescription} (${model})\nField: ${fieldString} (${field})\n`,
  );
}

export function invalidLanguage(lang: string): OdooException {
  return userError(`Invalid language code: ${lang}`);
}

export function unknownDatabase(db: string): OdooException {
  return new OdooException(
    'psycopg2.OperationalError',
    `connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${db}" does not exist\n`,
  );
}
