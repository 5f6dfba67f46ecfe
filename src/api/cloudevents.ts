/**
 * CloudEvents 1.0 over HTTP (https://github.com/cloudevents/spec, HTTP protocol binding
 * and JSON event format): structured mode, binary mode (ce-* headers) and batches, turned
 * into the pipeline's IncomingEvent or rejected with a precise error.
 *
 * Order of checks for one event: attributes (400 event.missing_attribute,
 * event.unsupported_specversion, event.invalid_attribute; 415
 * event.unsupported_datacontenttype), then the event type (422 event.unknown_type), then
 * the data against the type's schema (422 event.invalid_data), then the business key
 * (422 event.missing_key). In a batch the first bad event rejects the whole batch; its
 * issues' paths start with its index (`/3/type`) and the error carries `index`.
 *
 * Besides the spec, values must be storable: strings are well-formed Unicode without NUL
 * and the identifying attributes have byte limits that keep them indexable. The published
 * envelope (domain CloudEventEnvelope) has the last word on the extensions it defines.
 *
 * The stored occurrence time (hub_events.occurred_at, which orders timelines) is the data's
 * own time field when the event type has one (catalogue timePath), else the CloudEvents
 * `time`; both are normalised to UTC. The `time` attribute itself is kept as sent (in UTC).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HubError, PermanentError, ValidationError, type FieldIssue } from '../domain/errors.ts';
import { CloudEventEnvelope, dataTimeOf, getEventType, instantKey, keyOf, parseInstant, validate, validateEventData } from '../domain/index.ts';
import type { IncomingEvent } from '../pipeline/types.ts';
import { isJsonMediaType, parseContentType } from './body.ts';

export type IngressMode = 'structured' | 'binary' | 'batch';

export const STRUCTURED_MEDIA_TYPE = 'application/cloudevents+json';
export const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** Byte limits (UTF-8) of attributes that are indexed or repeated on every row. */
export const ATTRIBUTE_LIMITS = {
  id: 256,
  source: 1024,
  type: 256,
  subject: 1024,
  dataschema: 2048,
  datacontenttype: 256,
  partitionkey: 512,
  tenant: 64,
  correlationid: 256,
  extension: 4096,
} as const;

const MAX_DATA_DEPTH = 64;
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
/** Extensions only the hub writes: where a webhook's events came from, what a corrected event replays. */
const RESERVED_EXTENSIONS = new Set(['hubreceipt', 'replayof']);
const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
const OPTIONAL_STRINGS = ['subject', 'time', 'datacontenttype', 'dataschema'] as const;
/** attribute names that are not extensions */
const CORE = new Set<string>([...REQUIRED, ...OPTIONAL_STRINGS, 'data', 'data_base64']);
/** Earliest instant PostgreSQL's timestamptz accepts through ISO input (year 1). */
const MIN_EPOCH_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z

/** What the request contributes to each event unless the event says otherwise. */
export interface RequestDefaults {
  correlationId: string;
}

/** The ingress mode a Content-Type selects; undefined when the request cannot be an event. */
export function ingressMode(contentTypeHeader: string | undefined): IngressMode | undefined {
  const ct = parseContentType(contentTypeHeader);
  if (!ct) return undefined;
  if (ct.mediaType === STRUCTURED_MEDIA_TYPE) return 'structured';
  if (ct.mediaType === BATCH_MEDIA_TYPE) return 'batch';
  return isJsonMediaType(ct.mediaType) ? 'binary' : undefined;
}

// ----------------------------------------------------------------------------- issues

type IssueKind = 'missing' | 'invalid' | 'specversion' | 'media';

interface AttributeIssue extends FieldIssue {
  kind: IssueKind;
}

/** The most specific code wins: missing > specversion > media type > invalid. */
function attributeError(issues: AttributeIssue[], index: number | undefined): HubError {
  const has = (k: IssueKind) => issues.some((i) => i.kind === k);
  const plain = issues.map(({ path, message }) => ({ path, message }));
  const where = index === undefined ? 'the event' : `event ${index} of the batch`;
  if (has('missing')) return new ValidationError('event.missing_attribute', `${where} lacks a required CloudEvents attribute`, plain, { index });
  if (has('specversion')) return new ValidationError('event.unsupported_specversion', `${where} is not CloudEvents 1.0 (specversion must be "1.0")`, plain, { index });
  if (has('media')) {
    return new PermanentError({ code: 'event.unsupported_datacontenttype', message: `${where} carries data that is not JSON; canonical events carry JSON data`, status: 415, issues: plain, index });
  }
  return new ValidationError('event.invalid_attribute', `${where} has an invalid CloudEvents attribute`, plain, { index });
}

function unprocessable(code: string, message: string, issues: FieldIssue[], index: number | undefined): PermanentError {
  return new PermanentError({ code, message, status: 422, issues, index });
}

const escapePointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** Why a string cannot be stored as text/jsonb, if it cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorableString(s: string): string | undefined {
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate';
  if (s.includes('\u0000')) return 'contains a NUL character';
  return undefined;
}

/** The first value in `data` PostgreSQL's jsonb cannot hold faithfully (or that is unsafe to merge). */
function unstorableData(value: unknown, pointer: string, depth = 0): FieldIssue | undefined {
  if (depth > MAX_DATA_DEPTH) return { path: pointer, message: `is nested deeper than ${MAX_DATA_DEPTH} levels` };
  if (typeof value === 'string') {
    const why = unstorableString(value);
    return why ? { path: pointer, message: why } : undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: pointer, message: 'is a number out of range' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const issue = unstorableData(value[i], `${pointer}/${i}`, depth + 1);
      if (issue) return issue;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const at = `${pointer}/${escapePointer(k)}`;
      if (k === '__proto__') return { path: at, message: 'the property name "__proto__" is not allowed' };
      const why = unstorableString(k);
      if (why) return { path: pointer, message: `has a property name that ${why}` };
      const issue = unstorableData(v, at, depth + 1);
      if (issue) return issue;
    }
  }
  return undefined;
}

// ----------------------------------------------------------------------------- attributes

/** One event's attributes before validation, however they arrived. */
interface RawEvent {
  attributes: Record<string, unknown>;
  data: unknown;
  /** where an attribute is, for issue paths */
  pathOf(name: string): string;
  /** JSON pointer prefix of the data */
  dataPath: string;
  index: number | undefined;
  /** problems found while reading the attributes (binary mode headers) */
  issues?: AttributeIssue[];
}

function checkString(name: string, value: unknown, path: string, required: boolean, issues: AttributeIssue[]): string | undefined {
  if (value === undefined || value === null) {
    if (required) issues.push({ kind: 'missing', path, message: 'is required' });
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ kind: 'invalid', path, message: 'must be a string' });
    return undefined;
  }
  if (value === '') {
    issues.push({ kind: 'invalid', path, message: 'must not be empty' });
    return undefined;
  }
  const why = unstorableString(value);
  if (why) {
    issues.push({ kind: 'invalid', path, message: why });
    return undefined;
  }
  const limit = (ATTRIBUTE_LIMITS as Record<string, number>)[name] ?? ATTRIBUTE_LIMITS.extension;
  if (byteLength(value) > limit) {
    issues.push({ kind: 'invalid', path, message: `must be at most ${limit} bytes` });
    return undefined;
  }
  return value;
}

/** CloudEvents extension values: String, Integer (32-bit), Boolean (URI and Timestamp travel as strings). */
function checkExtension(name: string, value: unknown, path: string, issues: AttributeIssue[]): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647) return value;
    issues.push({ kind: 'invalid', path, message: 'must be a string, a boolean or a 32-bit integer' });
    return undefined;
  }
  if (typeof value === 'string') return checkString(name, value, path, false, issues);
  issues.push({ kind: 'invalid', path, message: 'must be a string, a boolean or a 32-bit integer' });
  return undefined;
}

interface Attributes {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  /** the CloudEvents time, normalised to UTC */
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  extensions: Record<string, string | number | boolean>;
}

/** Checks every attribute (not the type's existence); throws one error listing all issues. */
function readAttributes(raw: RawEvent): Attributes {
  const issues: AttributeIssue[] = [...(raw.issues ?? [])];
  const a = raw.attributes;
  const required: Partial<Record<(typeof REQUIRED)[number], string>> = {};
  for (const name of REQUIRED) required[name] = checkString(name, a[name], raw.pathOf(name), true, issues);
  if (required.specversion !== undefined && required.specversion !== '1.0') {
    issues.push({ kind: 'specversion', path: raw.pathOf('specversion'), message: 'must be "1.0"' });
  }
  const optional: Partial<Record<(typeof OPTIONAL_STRINGS)[number], string>> = {};
  for (const name of OPTIONAL_STRINGS) optional[name] = checkString(name, a[name], raw.pathOf(name), false, issues);

  let time: string | undefined;
  if (optional.time !== undefined) {
    const instant = parseInstant(optional.time);
    if (!instant || instant.epochMs < MIN_EPOCH_MS) issues.push({ kind: 'invalid', path: raw.pathOf('time'), message: 'must be an RFC 3339 date-time with an offset, e.g. "2026-03-04T10:15:00Z"' });
    else time = instantKey(instant); // UTC: PostgreSQL accepts any offset this way
  }
  const dct = optional.datacontenttype === undefined ? undefined : parseContentType(optional.datacontenttype);
  if (optional.datacontenttype !== undefined && (!dct || !isJsonMediaType(dct.mediaType))) {
    issues.push({ kind: 'media', path: raw.pathOf('datacontenttype'), message: 'must be application/json or a +json media type' });
  }
  if (a.data_base64 !== undefined) issues.push({ kind: 'media', path: raw.pathOf('data_base64'), message: 'binary data is not accepted; send JSON in "data"' });

  const extensions: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(a)) {
    if (CORE.has(name)) continue;
    const path = raw.pathOf(name);
    if (!EXTENSION_NAME.test(name)) {
      issues.push({ kind: 'invalid', path, message: 'is not a valid attribute name: lower-case letters a-z and digits 0-9, at most 20 characters' });
      continue;
    }
    if (RESERVED_EXTENSIONS.has(name)) {
      issues.push({ kind: 'invalid', path, message: 'is set by the hub itself and cannot be sent' });
      continue;
    }
    const v = checkExtension(name, value, path, issues);
    if (v !== undefined) extensions[name] = v;
  }
  if (!issues.length) {
    // the published envelope has the last word on the extensions it defines (traceparent, tenant...);
    // the type is left to the catalogue (an unknown type is 422, not 400)
    const envelope = { ...extensions, ...required, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) };
    for (const i of validate(CloudEventEnvelope, envelope)) {
      const name = (i.path.split('/')[1] ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
      if (name !== 'type') issues.push({ kind: 'invalid', path: raw.pathOf(name), message: i.message });
    }
  }
  if (issues.length) throw attributeError(issues, raw.index);
  return { ...(required as Pick<Attributes, (typeof REQUIRED)[number]>), ...optional, time, extensions };
}

/** The occurrence time: the data's own time field when the type has one, else the CloudEvents time. */
function occurrenceTime(raw: RawEvent, type: string, attributeTime: string | undefined): string | undefined {
  const stated = dataTimeOf(type, raw.data);
  if (stated === undefined) return attributeTime;
  const instant = parseInstant(stated);
  if (!instant || instant.epochMs < MIN_EPOCH_MS) {
    const pointer = raw.dataPath + '/' + getEventType(type)!.timePath!.split('.').map(escapePointer).join('/');
    throw unprocessable('event.invalid_data', 'the occurrence time in the data is not usable', [{ path: pointer, message: 'must be an RFC 3339 date-time from year 0001 on' }], raw.index);
  }
  return instantKey(instant);
}

function toIncoming(raw: RawEvent, defaults: RequestDefaults): IncomingEvent {
  const attrs = readAttributes(raw);
  const { type, extensions } = attrs;
  if (!getEventType(type)) {
    throw unprocessable('event.unknown_type', `the event type ${JSON.stringify(type)} is not in the catalogue`, [{ path: raw.pathOf('type'), message: 'is not a known event type' }], raw.index);
  }
  const unstorable = unstorableData(raw.data, raw.dataPath);
  const dataIssues = unstorable ? [unstorable] : validateEventData(type, raw.data).map((i: FieldIssue) => ({ path: raw.dataPath + i.path, message: i.message }));
  if (dataIssues.length) throw unprocessable('event.invalid_data', `the data does not match the schema of ${type}`, dataIssues, raw.index);

  const key = (extensions.partitionkey as string | undefined) ?? keyOf(type, raw.data);
  if (key === undefined) {
    throw unprocessable('event.missing_key', `no business key: set the "partitionkey" extension or the key field of ${type}`, [{ path: raw.pathOf('partitionkey'), message: 'is required when the data carries no key' }], raw.index);
  }
  if (byteLength(key) > ATTRIBUTE_LIMITS.partitionkey || unstorableString(key)) {
    throw unprocessable('event.invalid_data', `the business key in the data is not usable (at most ${ATTRIBUTE_LIMITS.partitionkey} bytes)`, [{ path: raw.dataPath, message: 'yields an unusable business key' }], raw.index);
  }
  return {
    id: attrs.id,
    source: attrs.source,
    type,
    specversion: attrs.specversion,
    subject: attrs.subject,
    time: attrs.time,
    occurredAt: occurrenceTime(raw, type, attrs.time),
    datacontenttype: attrs.datacontenttype,
    dataschema: attrs.dataschema,
    data: raw.data,
    extensions,
    key,
    tenantId: (extensions.tenant as string | undefined) ?? 'default',
    correlationId: (extensions.correlationid as string | undefined) ?? defaults.correlationId,
  };
}

// ----------------------------------------------------------------------------- modes

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structured mode: the body (or a batch element) is one event in the JSON event format. */
export function eventFromStructured(value: unknown, defaults: RequestDefaults, index?: number): IncomingEvent {
  const prefix = index === undefined ? '' : `/${index}`;
  if (!isObject(value)) {
    throw new ValidationError('event.malformed', `${index === undefined ? 'the body' : `element ${index} of the batch`} is not a JSON object`, [{ path: prefix, message: 'must be a JSON object (a CloudEvent)' }], { index });
  }
  return toIncoming(
    { attributes: value, data: value.data, pathOf: (name) => `${prefix}/${escapePointer(name)}`, dataPath: `${prefix}/data`, index },
    defaults,
  );
}

/** A batch: a non-empty JSON array of structured events, at most `maxBatch`. */
export function eventsFromBatch(value: unknown, defaults: RequestDefaults, maxBatch: number): IncomingEvent[] {
  if (!Array.isArray(value)) throw new ValidationError('batch.not_array', 'a batch must be a JSON array of CloudEvents', [{ path: '', message: 'must be an array' }]);
  if (value.length === 0) throw new ValidationError('batch.empty', 'the batch has no events', [{ path: '', message: 'must contain at least one event' }]);
  if (value.length > maxBatch) {
    throw new PermanentError({ code: 'batch.too_large', message: `the batch has ${value.length} events; at most ${maxBatch} are accepted per request`, status: 413, issues: [{ path: '', message: `must contain at most ${maxBatch} events` }] });
  }
  return value.map((v, i) => eventFromStructured(v, defaults, i));
}

/** Undoes the HTTP binding's percent-encoding of header values (UTF-8). */
function percentDecode(v: string): string | undefined {
  try {
    return v.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => decodeURIComponent(m));
  } catch {
    return undefined;
  }
}

/**
 * Binary mode: attributes in ce-* headers, the body is the data and Content-Type its
 * datacontenttype. Header values are strings; extensions keep them as strings.
 */
export function eventFromBinary(headers: IncomingHttpHeaders, data: unknown, defaults: RequestDefaults): IncomingEvent {
  const attributes: Record<string, unknown> = {};
  const issues: AttributeIssue[] = [];
  for (const [header, raw] of Object.entries(headers)) {
    if (!header.startsWith('ce-') || raw === undefined) continue;
    const name = header.slice(3);
    if (name === 'datacontenttype' || name === 'data' || name === 'data_base64') {
      issues.push({ kind: 'invalid', path: header, message: 'is not a binary-mode header: Content-Type is the data content type and the body is the data' });
      continue;
    }
    const value = percentDecode(Array.isArray(raw) ? raw.join(',') : raw);
    if (value === undefined) issues.push({ kind: 'invalid', path: header, message: 'has an invalid percent-encoding' });
    else attributes[name] = value;
  }
  attributes.datacontenttype = headers['content-type'];
  const pathOf = (name: string) => (name === 'datacontenttype' ? 'content-type' : `ce-${name}`);
  return toIncoming({ attributes, data, pathOf, dataPath: '/data', index: undefined, issues }, defaults);
}
