/**
 * WMS mapping profiles: the YAML file that tells the generic WMS connector how one WMS's
 * API looks. For each outbound operation it gives the HTTP method, a path template and
 * JSONata expressions from the canonical input to the request (body, query, idempotency
 * key) and from the answer back to canonical terms; for inbound webhooks, how to read the
 * WMS event type and the event id, and per WMS event type a JSONata expression producing
 * zero or more canonical events `{type, data}`, plus the signature settings.
 *
 * `loadProfile` parses, validates against `ProfileSchema`, checks every path template and
 * compiles every expression. Any problem throws one ProfileError listing all problems,
 * each with the file, the YAML line and column, the profile path
 * (`inbound.events."pick.confirmed".map`) and, for JSONata syntax errors, the position in
 * the expression. Nothing is returned half-loaded.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import jsonata from 'jsonata';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document, type Node as YamlNode } from 'yaml';
import { PermanentError, type FieldIssue } from '../../domain/errors.ts';
import { SYSTEM_PATTERN } from '../../domain/primitives.ts';
import { validate } from '../../domain/validation.ts';

export const OPERATIONS = ['release', 'cancel', 'updateShipTo', 'attachLabels', 'getInventory'] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** Names a path template may use per operation: top-level fields of the operation's canonical input. */
export const PATH_FIELDS: Readonly<Record<OperationName, readonly string[]>> = {
  release: ['fulfilmentRequestId', 'orderId', 'orderNumber', 'warehouseId'],
  cancel: ['wmsOrderId', 'orderId', 'fulfilmentRequestId'],
  updateShipTo: ['wmsOrderId', 'orderId', 'fulfilmentRequestId'],
  attachLabels: ['wmsOrderId', 'orderId', 'shipmentId', 'fulfilmentRequestId'],
  getInventory: ['warehouseId'],
};

const Expr = (description: string) => Type.String({ minLength: 1, description: `JSONata expression: ${description}` });

export const OperationSchema = Type.Object(
  {
    method: Type.Union([Type.Literal('GET'), Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH'), Type.Literal('DELETE')], {
      description: 'HTTP method of the request.',
    }),
    path: Type.String({
      pattern: '^/',
      description: 'Path template relative to the base URL; `{name}` is replaced by the URL-encoded top-level field `name` of the canonical input.',
    }),
    body: Type.Optional(Expr('the canonical input → the JSON request body (no body when absent or when it yields nothing).')),
    query: Type.Optional(Expr('the canonical input → an object of query parameters (an array value repeats the parameter).')),
    idempotencyKey: Type.Optional(Expr('the canonical input → the Idempotency-Key header value.')),
    response: Type.Optional(Expr('the JSON answer → the canonical result (with $input bound to the canonical input).')),
    description: Type.Optional(Type.String({ description: 'What the operation does at this WMS.' })),
  },
  { additionalProperties: false },
);

export const ProfileSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$', description: 'Identifier of the profile (lower case), e.g. simwms.' }),
    name: Type.String({ minLength: 1, description: 'Name of the WMS, for people.' }),
    description: Type.Optional(Type.String({ description: 'Notes on the WMS and its API.' })),
    system: Type.String({ pattern: SYSTEM_PATTERN, description: 'ExternalRef system of the WMS ids, e.g. wms:simwms; bound as $system.' }),
    source: Type.String({ minLength: 1, maxLength: 200, description: 'CloudEvents source of the events mapped from its webhooks, e.g. /wms/simwms.' }),
    auth: Type.Object(
      {
        header: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'X-Api-Key', description: 'Header carrying the API key.' }),
        scheme: Type.Union([Type.Literal('plain'), Type.Literal('bearer')], { default: 'plain', description: 'plain: the key as is; bearer: "Bearer <key>".' }),
      },
      { additionalProperties: false, description: 'How requests authenticate.' },
    ),
    constants: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Values bound as $name in every expression (e.g. warehouseId); the connector configuration may override them.',
      }),
    ),
    outbound: Type.Object(
      {
        release: Type.Optional(OperationSchema),
        cancel: Type.Optional(OperationSchema),
        updateShipTo: Type.Optional(OperationSchema),
        attachLabels: Type.Optional(OperationSchema),
        getInventory: Type.Optional(OperationSchema),
      },
      { additionalProperties: false, description: 'Requests the hub sends, per operation.' },
    ),
    inbound: Type.Object(
      {
        signature: Type.Object(
          {
            scheme: Type.Union([Type.Literal('hmac-sha256-hex'), Type.Literal('standard')], { description: 'hmac-sha256-hex (body HMAC in a header) or standard (Standard Webhooks).' }),
            header: Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'Header carrying the signature (hmac-sha256-hex).' }),
            idHeader: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'Header carrying the delivery id.' })),
            timestampHeader: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'Header carrying a Unix timestamp.' })),
          },
          { additionalProperties: false, description: 'How deliveries are signed.' },
        ),
        eventType: Expr('the delivery body → the WMS event type (a string).'),
        dedupeKey: Expr('the delivery body → the WMS event id, the same on every retry (a string).'),
        events: Type.Record(
          Type.String({ minLength: 1 }),
          Type.Object(
            {
              map: Expr('the delivery body → zero or more canonical events {type, data} (an object, an array, or nothing).'),
              description: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
          { description: 'Per WMS event type, how it becomes canonical events; a type not listed is refused.' },
        ),
      },
      { additionalProperties: false, description: 'Webhooks the WMS sends.' },
    ),
  },
  { additionalProperties: false },
);

export type ProfileDocument = Static<typeof ProfileSchema>;

/** Where something is in a profile file. */
export interface ProfileLocation {
  file: string;
  /** 1-based; 0 when unknown */
  line: number;
  column: number;
  /** the profile path, e.g. `inbound.events."pick.confirmed".map` */
  path: string;
}

export interface ProfileProblem extends ProfileLocation {
  message: string;
}

/** `file:line:column: path: message` */
export function formatProblem(p: ProfileProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.path ? p.path + ': ' : ''}${p.message}`;
}

/** A profile that cannot be used: every problem with its place. Code `wms.profile_invalid`. */
const REST_PROFILE: ProfileKind = {
  fail: (problems) => new ProfileError(problems),
  notMapping: 'a profile is a YAML mapping (id, name, system, source, auth, outbound, inbound)',
  unknownField: 'is not a known field of a profile here (misspelt?)',
};

export class ProfileError extends PermanentError {
  readonly problems: ProfileProblem[];
  constructor(problems: ProfileProblem[]) {
    super({
      code: 'wms.profile_invalid',
      message: `the WMS profile is not valid:\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`,
      issues: problems.map((p) => ({ path: p.path, message: `${p.message} (${p.file}:${p.line}:${p.column})` })),
    });
    this.problems = problems;
  }
}

/** A compiled JSONata expression and where it came from. */
export interface CompiledExpression {
  readonly source: string;
  readonly expression: jsonata.Expression;
  readonly at: ProfileLocation;
}

export interface CompiledOperation {
  name: OperationName;
  method: string;
  path: string;
  /** placeholder names in the path template */
  pathFields: string[];
  body?: CompiledExpression;
  query?: CompiledExpression;
  idempotencyKey?: CompiledExpression;
  response?: CompiledExpression;
}

export interface Profile {
  file: string;
  id: string;
  name: string;
  system: string;
  source: string;
  auth: { header: string; scheme: 'plain' | 'bearer' };
  constants: Record<string, string | number | boolean>;
  outbound: Partial<Record<OperationName, CompiledOperation>>;
  inbound: {
    signature: ProfileDocument['inbound']['signature'];
    eventType: CompiledExpression;
    dedupeKey: CompiledExpression;
    events: ReadonlyMap<string, CompiledExpression>;
  };
  document: ProfileDocument;
}

/** A profile path from segments: identifiers joined by dots, other keys quoted. */
export function profilePath(segments: readonly (string | number)[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? (i ? '.' : '') + s : (i ? '.' : '') + JSON.stringify(s)))
    .join('');
}

/** The segments of a JSON pointer (as validation issues name places). */
export function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The YAML node at a path (the key node when `key` is set), or the deepest node on the way. */
export function nodeAt(doc: Document, segments: readonly string[], key = false): YamlNode | undefined {
  let node: unknown = doc.contents;
  let last: YamlNode | undefined = doc.contents ?? undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) return last;
      if (i === segments.length - 1 && key) return pair.key as YamlNode;
      node = pair.value;
      last = (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (!item) return last;
      node = item;
      last = item as YamlNode;
    } else return last;
  }
  return last;
}

/** Where a YAML node is, as a problem's location. */
export function locate(file: string, lc: LineCounter, node: YamlNode | undefined, segments: readonly string[]): ProfileLocation {
  const off = node?.range?.[0];
  const pos = off === undefined ? undefined : lc.linePos(off);
  return { file, line: pos?.line ?? 0, column: pos?.col ?? 0, path: profilePath(segments) };
}

/**
 * Where a character of an expression is in the file: for a block scalar (`|`), the
 * expression's lines start on the line after the indicator; for a one-line scalar, on its own line.
 */
export function positionInFile(text: string, lc: LineCounter, node: YamlNode | undefined, source: string, position: number): { line: number; column: number } | undefined {
  if (!node?.range || !isScalar(node)) return undefined;
  const start = lc.linePos(node.range[0]);
  const before = source.slice(0, Math.max(0, position - 1));
  const lineInExpr = before.split('\n').length - 1;
  const colInExpr = before.length - (before.lastIndexOf('\n') + 1) + 1;
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    // the first content line follows the header; the block's indentation precedes the text
    const contentStart = start.line + 1;
    const lineText = text.slice(lc.lineStarts[contentStart - 1] ?? 0).split('\n')[0] ?? '';
    const indent = /^[ ]*/.exec(lineText)![0].length;
    return { line: contentStart + lineInExpr, column: indent + colInExpr };
  }
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
  return { line: start.line + lineInExpr, column: lineInExpr ? colInExpr : start.col + quoted + colInExpr - 1 };
}

/** The YAML syntax errors of a parsed document, as problems with their place. */
export function yamlProblems(doc: Document, file: string): ProfileProblem[] {
  return doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    return { file, line: pos?.line ?? 0, column: pos?.col ?? 0, path: '', message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
  });
}

/** What the two kinds of profile (REST and file) say differently when they report a problem. */
export interface ProfileKind {
  /** the error every problem of a profile of this kind is thrown in */
  fail(problems: ProfileProblem[]): Error;
  /** what the document must be, for a document that is not a mapping: 'a profile is a YAML mapping (id, ...)' */
  notMapping: string;
  /** what an unknown field is called: 'is not a known field of a profile here (misspelt?)' */
  unknownField: string;
}

/**
 * The first half of reading any profile: the YAML parsed (syntax errors located), the defaults
 * `fill` sets put in, the document validated against `schema` (each problem at its line and
 * column). Throws `kind.fail` with every problem found so far; returns what the compiling half
 * needs, with the list it adds its own problems to.
 */
export function readProfileDocument<D>(text: string, file: string, schema: TSchema, kind: ProfileKind, fill: (v: Record<string, unknown>) => void = () => undefined) {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const problems: ProfileProblem[] = yamlProblems(doc, file);
  if (problems.length) throw kind.fail(problems);
  const value: unknown = doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw kind.fail([{ file, line: 1, column: 1, path: '', message: kind.notMapping }]);
  const v = value as Record<string, unknown>;
  fill(v);
  const issues: FieldIssue[] = validate(schema, v);
  for (const i of issues) {
    const segs = pointerSegments(i.path);
    const unknown = /not a known property/.test(i.message);
    problems.push({ ...locate(file, lc, nodeAt(doc, segs, unknown), segs), message: unknown ? kind.unknownField : i.message });
  }
  if (problems.length) throw kind.fail(problems);
  const at = (segments: readonly string[]) => locate(file, lc, nodeAt(doc, segments), segments);
  /** Compiles the JSONata expression at `segments`; a syntax error becomes a problem at its place in the file (undefined). */
  const compile = (segments: string[], source: string): CompiledExpression | undefined => {
    const node = nodeAt(doc, segments);
    const where = locate(file, lc, node, segments);
    try {
      return { source, expression: jsonata(source), at: where };
    } catch (e) {
      const err = e as { message?: string; position?: number; token?: string; code?: string };
      const pos = typeof err.position === 'number' ? positionInFile(text, lc, node, source, err.position) : undefined;
      problems.push({
        ...where,
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        message: `JSONata syntax error${typeof err.position === 'number' ? ` at position ${err.position} of the expression` : ''}${err.token ? ` (near ${JSON.stringify(err.token)})` : ''}: ${err.message ?? String(e)}${err.code ? ` [${err.code}]` : ''}`,
      });
      return undefined;
    }
  };
  /** Throws `kind.fail` with every problem, in file order, when there is any. */
  const done = (): void => {
    if (problems.length) throw kind.fail(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  };
  return { d: v as D, problems, at, compile, done };
}

/** A profile file's text; a file that cannot be read is a problem of the profile. */
export function readProfileFile(path: string, kind: Pick<ProfileKind, 'fail'>): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw kind.fail([{ file: path, line: 0, column: 0, path: '', message: `cannot read the file: ${(e as Error).message}` }]);
  }
}

/** Parses, validates and compiles a profile from its text; `file` names it in errors. */
export function parseProfile(text: string, file: string): Profile {
  const { d, problems, at, compile, done } = readProfileDocument<ProfileDocument>(text, file, ProfileSchema, REST_PROFILE, (v) => {
    if (v.auth === undefined) v.auth = {};
    const auth = v.auth as Record<string, unknown>;
    if (auth && typeof auth === 'object') {
      auth.header ??= 'X-Api-Key';
      auth.scheme ??= 'plain';
    }
  });

  const outbound: Partial<Record<OperationName, CompiledOperation>> = {};
  for (const name of OPERATIONS) {
    const op = d.outbound[name];
    if (!op) continue;
    const base = ['outbound', name];
    const pathFields = [...op.path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
    for (const f of pathFields) {
      if (!PATH_FIELDS[name].includes(f)) {
        problems.push({ ...at([...base, 'path']), message: `the placeholder {${f}} is not a field of the ${name} input (use one of ${PATH_FIELDS[name].join(', ')})` });
      }
    }
    const c: CompiledOperation = { name, method: op.method, path: op.path, pathFields };
    for (const part of ['body', 'query', 'idempotencyKey', 'response'] as const) {
      const src = op[part];
      if (src === undefined) continue;
      const e = compile([...base, part], src);
      if (e) c[part] = e;
    }
    outbound[name] = c;
  }
  const eventType = compile(['inbound', 'eventType'], d.inbound.eventType);
  const dedupeKey = compile(['inbound', 'dedupeKey'], d.inbound.dedupeKey);
  const events = new Map<string, CompiledExpression>();
  for (const [t, spec] of Object.entries(d.inbound.events)) {
    const e = compile(['inbound', 'events', t, 'map'], spec.map);
    if (e) events.set(t, e);
  }
  done();
  return {
    file,
    id: d.id,
    name: d.name,
    system: d.system,
    source: d.source,
    auth: d.auth as Profile['auth'],
    constants: { ...(d.constants ?? {}) },
    outbound,
    inbound: { signature: d.inbound.signature, eventType: eventType!, dedupeKey: dedupeKey!, events },
    document: d,
  };
}

/** Reads, validates and compiles the profile at `path` (ProfileError when it cannot be used). */
export function loadProfile(path: string): Profile {
  return parseProfile(readProfileFile(path, REST_PROFILE), path);
}

/** The profiles shipped with the connector, by id (simwms). */
export function builtinProfilePath(id: string): string {
  return fileURLToPath(new URL(`./profiles/${id}.yaml`, import.meta.url));
}
