/**
 * Runtime validation of canonical data with TypeBox's TypeCompiler, and the translation
 * of its errors into FieldIssues a partner can act on: one issue per problem, the path
 * as a JSON pointer into the validated value, a message that says what was expected and
 * what was found.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { TypeCheck, ValueError } from '@sinclair/typebox/compiler';
import type { FieldIssue } from './errors.ts';
import { FORMAT_HINTS, registerFormats } from './formats.ts';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The compiled checker of a schema, compiled on first use and kept. */
export function checkerOf<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = compiled.get(schema);
  if (!c) {
    registerFormats();
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** At most this many issues are reported for one value; a wrong mapping can yield thousands. */
export const MAX_ISSUES = 50;

/** Validates `value` against `schema`; an empty list means valid. */
export function validate(schema: TSchema, value: unknown): FieldIssue[] {
  const check = checkerOf(schema);
  if (check.Check(value)) return [];
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  const missing = new Set<string>();
  for (const e of check.Errors(value)) {
    for (const issue of describe(e)) {
      // TypeBox reports a missing property twice (required, then wrong type): keep the first.
      if (e.type === ValueErrorType.ObjectRequiredProperty) missing.add(issue.path);
      else if (missing.has(issue.path) && e.value === undefined) continue;
      const id = `${issue.path}\u0000${issue.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push(issue);
      if (issues.length >= MAX_ISSUES) return issues;
    }
  }
  return issues;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const typeName: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.String]: 'a string',
  [ValueErrorType.Number]: 'a number',
  [ValueErrorType.Integer]: 'an integer',
  [ValueErrorType.Boolean]: 'true or false',
  [ValueErrorType.Object]: 'an object',
  [ValueErrorType.Array]: 'an array',
  [ValueErrorType.Null]: 'null',
};

function literalsOf(schema: TSchema): unknown[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf || !anyOf.every((s) => 'const' in s)) return undefined;
  return anyOf.map((s) => (s as unknown as { const: unknown }).const);
}

const SCALAR_NAMES: Record<string, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', null: 'null' };

/** For a union of plain scalar types (string | number | boolean), their names. */
function scalarTypesOf(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  const names = anyOf?.map((s) => SCALAR_NAMES[String((s as { type?: unknown }).type)]);
  return names && names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** The issues of the union variant that came closest (fewest errors), when no variant matched. */
function closestVariant(e: ValueError): FieldIssue[] | undefined {
  let best: FieldIssue[] | undefined;
  for (const it of e.errors) {
    const found: FieldIssue[] = [];
    for (const sub of it) found.push(...describe(sub));
    if (found.length && (!best || found.length < best.length)) best = found;
  }
  return best;
}

function describe(e: ValueError): FieldIssue[] {
  const s = e.schema as Record<string, unknown>;
  const path = e.path;
  const got = show(e.value);
  const at = (message: string): FieldIssue[] => [{ path, message }];
  const description = typeof s.description === 'string' ? s.description : undefined;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return at('is required');
    case ValueErrorType.ObjectAdditionalProperties: {
      const patterns = s.patternProperties && typeof s.patternProperties === 'object' ? Object.keys(s.patternProperties) : [];
      if (patterns.length) return at(`is not an allowed name here (names must match ${patterns.join(' or ')})`);
      return at('is not a known property here (misspelt, or not part of the canonical model)');
    }
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
    case ValueErrorType.Null:
      return at(`must be ${typeName[e.type]}, got ${got}`);
    case ValueErrorType.StringMinLength:
      return at(s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
    case ValueErrorType.StringMaxLength:
      return at(`must be at most ${s.maxLength} characters long, got ${(e.value as string).length}`);
    case ValueErrorType.StringPattern:
      return at(`${got} is not valid: expected ${description ?? `a string matching ${s.pattern}`}`);
    case ValueErrorType.StringFormat: {
      const hint = FORMAT_HINTS[s.format as string] ?? `format "${s.format}"`;
      return at(`${got} is not valid: expected ${hint}`);
    }
    case ValueErrorType.StringFormatUnknown:
      return at(`uses the unregistered format "${s.format}" (a bug in the schema)`);
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return at(`must be ${s.minimum} or more, got ${got}`);
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return at(`must be ${s.maximum} or less, got ${got}`);
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return at(`must be greater than ${s.exclusiveMinimum}, got ${got}`);
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return at(`must be less than ${s.exclusiveMaximum}, got ${got}`);
    case ValueErrorType.ArrayMinItems:
      return at(`must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}, got ${(e.value as unknown[]).length}`);
    case ValueErrorType.ArrayMaxItems:
      return at(`must have at most ${s.maxItems} items, got ${(e.value as unknown[]).length}`);
    case ValueErrorType.ArrayUniqueItems:
      return at('must not contain the same value twice');
    case ValueErrorType.Literal:
      return at(`must be ${JSON.stringify(s.const)}, got ${got}`);
    case ValueErrorType.Union: {
      const literals = literalsOf(e.schema);
      if (literals) return at(`must be one of ${literals.map((l) => JSON.stringify(l)).join(', ')}; got ${got}`);
      const scalars = scalarTypesOf(e.schema);
      if (scalars) return at(`must be ${scalars.length > 1 ? `${scalars.slice(0, -1).join(', ')} or ${scalars.at(-1)}` : scalars[0]}, got ${got}`);
      return closestVariant(e) ?? at(`matches none of the allowed shapes, got ${got}`);
    }
    default:
      return at(`${e.message}, got ${got}`);
  }
}
