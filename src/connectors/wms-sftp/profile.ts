/**
 * File profiles: the YAML file that tells the SFTP warehouse connector how one 3PL's files
 * look. For each outbound operation (release, cancel, updateShipTo, attachLabels) it gives
 * the file name template, the columns and a JSONata expression from the canonical input to
 * the rows; for inbound, per kind of file (recognised by a regular expression on its name)
 * a JSONata expression from the rows to canonical events `{type, data}`, evaluated per row
 * or once per file; and how to read the 3PL's stock snapshot files.
 *
 * `loadFileProfile` parses, validates against `FileProfileSchema`, checks every file name
 * template and pattern and compiles every expression. Any problem throws one
 * FileProfileError listing all problems, each with the file, the YAML line and column, the
 * profile path (`inbound.picks.map`) and, for a JSONata syntax error, its position in the
 * expression, the way the REST WMS profiles report theirs. Nothing is returned half-loaded.
 */
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { PermanentError } from '../../domain/errors.ts';
import { SYSTEM_PATTERN } from '../../domain/primitives.ts';
import { formatProblem, readProfileDocument, readProfileFile, type CompiledExpression, type ProfileKind, type ProfileProblem } from '../wms/profile.ts';

export { formatProblem, type CompiledExpression, type ProfileLocation, type ProfileProblem } from '../wms/profile.ts';

export const FILE_OPERATIONS = ['release', 'cancel', 'updateShipTo', 'attachLabels'] as const;
export type FileOperation = (typeof FILE_OPERATIONS)[number];

/** Placeholders a file name template may use per operation (`{timestamp}`: the clock, yyyyMMddHHmmss UTC). */
export const NAME_FIELDS: Readonly<Record<FileOperation, readonly string[]>> = {
  release: ['shipmentId', 'orderId', 'fulfilmentRequestId', 'orderNumber', 'warehouseId', 'timestamp'],
  cancel: ['shipmentId', 'orderId', 'fulfilmentRequestId', 'wmsOrderId', 'timestamp'],
  updateShipTo: ['shipmentId', 'orderId', 'fulfilmentRequestId', 'wmsOrderId', 'timestamp'],
  attachLabels: ['shipmentId', 'orderId', 'fulfilmentRequestId', 'wmsOrderId', 'timestamp'],
};

const Expr = (description: string) => Type.String({ minLength: 1, description: `JSONata expression: ${description}` });
const Column = Type.String({ minLength: 1, maxLength: 100 });

export const FileOperationSchema = Type.Object(
  {
    file: Type.String({
      pattern: '^[A-Za-z0-9._{}-]+$',
      maxLength: 200,
      description: 'File name template; `{name}` is replaced by the input field `name` (characters other than letters, digits, . _ - become _). Must identify what the file says: the same input gives the same name, so a retry writes nothing new.',
    }),
    columns: Type.Array(Column, { minItems: 1, maxItems: 500, uniqueItems: true, description: 'The header row, in order; every row may only use these names.' }),
    rows: Expr('the canonical input → the rows of the file (an array of objects by column name; an object is one row).'),
    description: Type.Optional(Type.String({ description: 'What the file asks of the 3PL.' })),
  },
  { additionalProperties: false },
);

export const InboundKindSchema = Type.Object(
  {
    file: Type.String({ minLength: 1, maxLength: 400, description: 'Regular expression a file name must match to be of this kind (the first kind that matches wins).' }),
    each: Type.Union([Type.Literal('row'), Type.Literal('file')], {
      default: 'row',
      description: 'row: the expression runs once per row (the row as input, $rows all rows); file: once on the array of rows (to group rows, e.g. the lines of a pick).',
    }),
    map: Expr('the row (or the rows) → zero or more canonical events {type, data}; $file is the file name, $line the row\'s line.'),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const FileProfileSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$', description: 'Identifier of the profile (lower case), e.g. csv3pl.' }),
    name: Type.String({ minLength: 1, description: 'Name of the 3PL, for people.' }),
    description: Type.Optional(Type.String({ description: 'Notes on the 3PL and its files.' })),
    system: Type.String({ pattern: SYSTEM_PATTERN, description: 'ExternalRef system of the 3PL ids, e.g. wms:csv3pl; bound as $system.' }),
    source: Type.String({ minLength: 1, maxLength: 200, description: 'CloudEvents source of the events mapped from its files, e.g. /wms/csv3pl.' }),
    csv: Type.Object(
      { delimiter: Type.String({ minLength: 1, maxLength: 1, default: ',', description: 'Field delimiter of the files, both ways.' }) },
      { additionalProperties: false, default: {}, description: 'CSV dialect.' },
    ),
    constants: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Values bound as $name in every expression; the connector configuration may override them.',
      }),
    ),
    outbound: Type.Object(
      {
        release: Type.Optional(FileOperationSchema),
        cancel: Type.Optional(FileOperationSchema),
        updateShipTo: Type.Optional(FileOperationSchema),
        attachLabels: Type.Optional(FileOperationSchema),
      },
      { additionalProperties: false, description: 'Files the hub writes, per operation.' },
    ),
    inventory: Type.Optional(
      Type.Object(
        {
          file: Type.String({ minLength: 1, maxLength: 400, description: 'Regular expression of the stock snapshot file names in the stock directory; the greatest name (the latest, when names carry a timestamp) is read.' }),
          map: Expr('the rows of the snapshot → [{sku, available}] (a number per SKU).'),
        },
        { additionalProperties: false, description: "How the 3PL's stock snapshots are read." },
      ),
    ),
    inbound: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }), InboundKindSchema, {
      description: 'Files the 3PL writes, per kind; a file of no kind goes to the error directory.',
    }),
  },
  { additionalProperties: false },
);

export type FileProfileDocument = Static<typeof FileProfileSchema>;

/** A file profile that cannot be used: every problem with its place. Code `wms-sftp.profile_invalid`. */
const FILE_PROFILE: ProfileKind = {
  fail: (problems) => new FileProfileError(problems),
  notMapping: 'a file profile is a YAML mapping (id, name, system, source, outbound, inbound)',
  unknownField: 'is not a known field of a file profile here (misspelt?)',
};

export class FileProfileError extends PermanentError {
  readonly problems: ProfileProblem[];
  constructor(problems: ProfileProblem[]) {
    super({
      code: 'wms-sftp.profile_invalid',
      message: `the file profile is not valid:\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`,
      issues: problems.map((p) => ({ path: p.path, message: `${p.message} (${p.file}:${p.line}:${p.column})` })),
    });
    this.problems = problems;
  }
}

export interface CompiledFileOperation {
  name: FileOperation;
  file: string;
  /** placeholder names in the file name template */
  nameFields: string[];
  columns: string[];
  rows: CompiledExpression;
}

export interface CompiledInboundKind {
  name: string;
  pattern: RegExp;
  each: 'row' | 'file';
  map: CompiledExpression;
}

export interface FileProfile {
  file: string;
  id: string;
  name: string;
  system: string;
  source: string;
  delimiter: string;
  constants: Record<string, string | number | boolean>;
  outbound: Partial<Record<FileOperation, CompiledFileOperation>>;
  inventory?: { pattern: RegExp; map: CompiledExpression };
  /** in the profile's order: the first kind whose pattern matches a name wins */
  inbound: CompiledInboundKind[];
  document: FileProfileDocument;
}

/** Parses, validates and compiles a file profile from its text; `file` names it in errors. */
export function parseFileProfile(text: string, file: string): FileProfile {
  const { d, problems, at, compile, done } = readProfileDocument<FileProfileDocument>(text, file, FileProfileSchema, FILE_PROFILE, (v) => {
    v.csv ??= {};
    if (v.csv && typeof v.csv === 'object') (v.csv as Record<string, unknown>).delimiter ??= ',';
    if (v.inbound && typeof v.inbound === 'object') {
      for (const k of Object.values(v.inbound as Record<string, unknown>)) if (k && typeof k === 'object') (k as Record<string, unknown>).each ??= 'row';
    }
  });
  const regex = (segments: string[], source: string): RegExp | undefined => {
    try {
      return new RegExp(source);
    } catch (e) {
      problems.push({ ...at(segments), message: `not a regular expression: ${(e as Error).message}` });
      return undefined;
    }
  };

  const outbound: Partial<Record<FileOperation, CompiledFileOperation>> = {};
  for (const name of FILE_OPERATIONS) {
    const op = d.outbound[name];
    if (!op) continue;
    const base = ['outbound', name];
    const nameFields = [...op.file.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
    for (const f of nameFields) {
      if (!NAME_FIELDS[name].includes(f)) problems.push({ ...at([...base, 'file']), message: `the placeholder {${f}} is not a field of the ${name} input (use one of ${NAME_FIELDS[name].join(', ')})` });
    }
    if (/[{}]/.test(op.file.replace(/\{[^{}]*\}/g, ''))) problems.push({ ...at([...base, 'file']), message: 'a brace that opens or closes no placeholder' });
    if (op.file.endsWith('.tmp')) problems.push({ ...at([...base, 'file']), message: 'a final file name may not end in .tmp (the suffix of files being written)' });
    const rows = compile([...base, 'rows'], op.rows);
    if (rows) outbound[name] = { name, file: op.file, nameFields, columns: op.columns, rows };
  }
  let inventory: FileProfile['inventory'];
  if (d.inventory) {
    const pattern = regex(['inventory', 'file'], d.inventory.file);
    const map = compile(['inventory', 'map'], d.inventory.map);
    if (pattern && map) inventory = { pattern, map };
  }
  const inbound: CompiledInboundKind[] = [];
  for (const [kind, spec] of Object.entries(d.inbound)) {
    const pattern = regex(['inbound', kind, 'file'], spec.file);
    const map = compile(['inbound', kind, 'map'], spec.map);
    if (pattern && map) inbound.push({ name: kind, pattern, each: spec.each, map });
  }
  if (Object.keys(d.inbound).length === 0) problems.push({ ...at(['inbound']), message: 'no kind of inbound file is described' });
  done();
  return {
    file,
    id: d.id,
    name: d.name,
    system: d.system,
    source: d.source,
    delimiter: d.csv.delimiter,
    constants: { ...(d.constants ?? {}) },
    outbound,
    ...(inventory ? { inventory } : {}),
    inbound,
    document: d,
  };
}

/** Reads, validates and compiles the file profile at `path` (FileProfileError when it cannot be used). */
export function loadFileProfile(path: string): FileProfile {
  return parseFileProfile(readProfileFile(path, FILE_PROFILE), path);
}

/** The path of a profile shipped with the connector, by id (csv3pl). */
export function builtinFileProfilePath(id: string): string {
  return fileURLToPath(new URL(`./profiles/${id}.yaml`, import.meta.url));
}

/** A profile by configuration value: a shipped profile's id, or a file path. */
export function resolveFileProfile(idOrPath: string): FileProfile {
  return loadFileProfile(/^[a-z][a-z0-9_-]*$/.test(idOrPath) ? builtinFileProfilePath(idOrPath) : idOrPath);
}
