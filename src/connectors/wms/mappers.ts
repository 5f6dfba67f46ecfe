/**
 * Applying a WMS profile: canonical input → the HTTP request of an operation, the WMS's
 * answer → the canonical result, and a webhook body → canonical events. Pure apart from
 * JSONata evaluation (no I/O). Every failure is a HubError naming the profile file, line
 * and path of the expression that failed: bad canonical input is `wms.invalid_input`
 * (permanent), a mapping that fails or yields events the catalogue refuses is
 * `wms.mapping_failed` (a BusinessError with the issues: data, not a crash).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BusinessError, ValidationError, type FieldIssue } from '../../domain/errors.ts';
import { getEventType, validateEventData } from '../../domain/catalogue.ts';
import { FulfilmentRequest } from '../../domain/model.ts';
import { CarrierService, Id, PartyAddress, StringEnum } from '../../domain/primitives.ts';
import { LABEL_FORMATS } from '../../domain/catalogue.ts';
import { validate } from '../../domain/validation.ts';
import type { CompiledExpression, OperationName, Profile } from './profile.ts';

const WmsOrderId = Type.String({ minLength: 1, maxLength: 200, description: 'the order id the WMS assigned (from the release answer or the acknowledgement refs)' });

export const CancelInput = Type.Object(
  {
    wmsOrderId: WmsOrderId,
    orderId: Id('canonical order id'),
    fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id')),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false, title: 'WmsCancelInput' },
);

export const UpdateShipToInput = Type.Object(
  { wmsOrderId: WmsOrderId, orderId: Id('canonical order id'), fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id')), shipTo: PartyAddress },
  { additionalProperties: false, title: 'WmsUpdateShipToInput' },
);

export const AttachLabelsInput = Type.Object(
  {
    wmsOrderId: WmsOrderId,
    orderId: Id('canonical order id'),
    shipmentId: Id('canonical shipment id'),
    fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id')),
    carrier: CarrierService,
    trackingNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    packages: Type.Array(Type.Object({ packageId: Type.String({ minLength: 1, maxLength: 64 }), trackingNumber: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
    labels: Type.Optional(
      Type.Array(
        Type.Object(
          { packageId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), format: StringEnum(LABEL_FORMATS), uri: Type.String({ format: 'uri' }) },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
  },
  { additionalProperties: false, title: 'WmsAttachLabelsInput' },
);

export const GetInventoryInput = Type.Object(
  { skus: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 500 })), warehouseId: Type.Optional(Id('canonical location id')) },
  { additionalProperties: false, title: 'WmsGetInventoryInput' },
);

/** The canonical input of each operation. */
export const INPUT_SCHEMAS: Readonly<Record<OperationName, TSchema>> = {
  release: FulfilmentRequest,
  cancel: CancelInput,
  updateShipTo: UpdateShipToInput,
  attachLabels: AttachLabelsInput,
  getInventory: GetInventoryInput,
};

export interface OperationInputs {
  release: Static<typeof FulfilmentRequest>;
  cancel: Static<typeof CancelInput>;
  updateShipTo: Static<typeof UpdateShipToInput>;
  attachLabels: Static<typeof AttachLabelsInput>;
  getInventory: Static<typeof GetInventoryInput>;
}

/** The HTTP request an operation becomes; path includes the query string. */
export interface WmsRequest {
  operation: OperationName;
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface CanonicalEvent {
  type: string;
  data: unknown;
}

export interface InboundResult {
  /** the WMS's event type */
  wmsEventType: string;
  /** the WMS's event id (the same on every retry of the delivery) */
  dedupeKey: string;
  events: CanonicalEvent[];
}

/** Where an expression is, for messages: `file:line:col path`. */
export function where(e: CompiledExpression): string {
  return `${e.at.file}:${e.at.line}:${e.at.column} ${e.at.path}`;
}

const clean = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/**
 * The variables every expression of the profile sees: its constants, $system and $profile.
 * An override of `system` names this connection's ids apart from another WMS running the same
 * profile (two warehouses whose WMSs both number orders from 1).
 */
export function bindingsOf(profile: Profile, overrides: Record<string, string | number | boolean> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...profile.constants, ...overrides, system: typeof overrides.system === 'string' ? overrides.system : profile.system, profile: profile.id, ...extra };
}

/** Evaluates a compiled expression; a JSONata error becomes wms.mapping_failed naming the place. */
export async function evaluate(e: CompiledExpression, input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
  try {
    return clean(await e.expression.evaluate(input, bindings));
  } catch (err) {
    const x = err as { message?: string; position?: number; token?: string; code?: string };
    const pos = typeof x.position === 'number' ? ` at position ${x.position} of the expression` : '';
    const message = `${x.message ?? String(err)}${x.code ? ` [${x.code}]` : ''}`;
    throw new BusinessError({
      code: 'wms.mapping_failed',
      message: `${where(e)}: the expression failed${pos}: ${message}`,
      issues: [{ path: e.at.path, message: `failed${pos}: ${message} (${e.at.file}:${e.at.line})` }],
      cause: err,
    });
  }
}

function mappingFailed(message: string, issues: FieldIssue[]): BusinessError {
  return new BusinessError({ code: 'wms.mapping_failed', message, issues });
}

/**
 * The request of `operation` for a canonical input. The input is validated first
 * (ValidationError `wms.invalid_input`); the expressions then build body, query and
 * idempotency key; the path template takes the input's top-level fields, URL-encoded.
 */
export async function buildRequest<O extends OperationName>(
  profile: Profile,
  operation: O,
  input: unknown,
  overrides: Record<string, string | number | boolean> = {},
): Promise<WmsRequest> {
  const op = profile.outbound[operation];
  if (!op) {
    throw new BusinessError({ code: 'wms.operation_unsupported', message: `the profile ${profile.id} (${profile.file}) defines no outbound.${operation}` });
  }
  const issues = validate(INPUT_SCHEMAS[operation], input);
  if (issues.length) throw new ValidationError('wms.invalid_input', `the input of ${operation} is not valid: ${issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`, issues);
  const bindings = bindingsOf(profile, overrides);
  const rec = input as Record<string, unknown>;
  const missing = op.pathFields.filter((f) => typeof rec[f] !== 'string' || rec[f] === '');
  if (missing.length) {
    throw new ValidationError('wms.invalid_input', `the path ${op.path} of ${operation} needs ${missing.join(', ')} in the input`, missing.map((f) => ({ path: `/${f}`, message: 'is required by the path template' })));
  }
  const path = op.path.replace(/\{([^}]*)\}/g, (_, f: string) => encodeURIComponent(rec[f] as string));
  const query: Record<string, string[]> = {};
  if (op.query) {
    const q = await evaluate(op.query, input, bindings);
    if (q !== undefined) {
      if (q === null || typeof q !== 'object' || Array.isArray(q)) throw mappingFailed(`${where(op.query)}: must yield an object of query parameters`, [{ path: op.query.at.path, message: 'must yield an object' }]);
      for (const [k, v] of Object.entries(q)) {
        if (v === undefined || v === null) continue;
        query[k] = (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x)));
      }
    }
  }
  const headers: Record<string, string> = {};
  if (op.idempotencyKey) {
    const k = await evaluate(op.idempotencyKey, input, bindings);
    if (k !== undefined) {
      if (typeof k !== 'string' || k === '' || k.length > 255) throw mappingFailed(`${where(op.idempotencyKey)}: must yield a string of 1 to 255 characters`, [{ path: op.idempotencyKey.at.path, message: 'must yield a non-empty string' }]);
      headers['Idempotency-Key'] = k;
    }
  }
  const qs = new URLSearchParams();
  for (const [k, vs] of Object.entries(query)) for (const v of vs) qs.append(k, v);
  const req: WmsRequest = { operation, method: op.method, path: qs.size ? `${path}?${qs}` : path, query, headers };
  if (op.body) {
    const body = await evaluate(op.body, input, bindings);
    if (body !== undefined) {
      if (body === null || typeof body !== 'object') throw mappingFailed(`${where(op.body)}: must yield a JSON object or array`, [{ path: op.body.at.path, message: 'must yield an object or an array' }]);
      req.body = body;
    }
  }
  return req;
}

/** The canonical result of an answer: the operation's `response` expression ($input bound), else the JSON as received. */
export async function mapResponse(profile: Profile, operation: OperationName, input: unknown, json: unknown, overrides: Record<string, string | number | boolean> = {}): Promise<unknown> {
  const e = profile.outbound[operation]?.response;
  if (!e) return json;
  return evaluate(e, json, bindingsOf(profile, overrides, { input }));
}

/**
 * A webhook body through the profile: its WMS event type and id, then the canonical events
 * of that type's mapping, each checked against the catalogue. Unknown WMS event types,
 * results that are not `{type, data}` and data the catalogue refuses are all
 * wms.mapping_failed with one issue per problem.
 */
export async function mapInbound(profile: Profile, body: unknown, overrides: Record<string, string | number | boolean> = {}): Promise<InboundResult> {
  const bindings = bindingsOf(profile, overrides);
  const { eventType, dedupeKey, events } = profile.inbound;
  const t = await evaluate(eventType, body, bindings);
  if (typeof t !== 'string' || t === '') {
    throw mappingFailed(`${where(eventType)}: the delivery's event type is ${t === undefined ? 'missing' : JSON.stringify(t)}; a non-empty string is expected`, [
      { path: eventType.at.path, message: 'must yield a non-empty string' },
    ]);
  }
  const k = await evaluate(dedupeKey, body, bindings);
  if ((typeof k !== 'string' && typeof k !== 'number') || k === '') {
    throw mappingFailed(`${where(dedupeKey)}: the delivery's event id is ${k === undefined ? 'missing' : JSON.stringify(k)}; a non-empty string is expected`, [
      { path: dedupeKey.at.path, message: 'must yield a non-empty string' },
    ]);
  }
  const map = events.get(t);
  if (!map) {
    throw mappingFailed(`the WMS event type ${JSON.stringify(t)} has no mapping in profile ${profile.id} (${profile.file}; mapped: ${[...events.keys()].join(', ')})`, [
      { path: `inbound.events.${JSON.stringify(t)}`, message: 'no mapping for this WMS event type' },
    ]);
  }
  const out = await evaluate(map, body, bindings);
  const list = out === undefined ? [] : Array.isArray(out) ? out : [out];
  const issues: FieldIssue[] = [];
  const result: CanonicalEvent[] = [];
  list.forEach((ev, i) => {
    const at = `/events/${i}`;
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return void issues.push({ path: at, message: 'must be an object {type, data}' });
    const { type, data } = ev as Record<string, unknown>;
    const extra = Object.keys(ev).filter((key) => key !== 'type' && key !== 'data');
    if (extra.length) issues.push({ path: at, message: `has members other than type and data: ${extra.join(', ')}` });
    if (typeof type !== 'string' || !getEventType(type)) return void issues.push({ path: `${at}/type`, message: `${JSON.stringify(type)} is not an event type of the catalogue` });
    for (const iss of validateEventData(type, data)) issues.push({ path: `${at}/data${iss.path}`, message: `${type}: ${iss.message}` });
    result.push({ type, data });
  });
  if (issues.length) {
    throw mappingFailed(`${where(map)}: the mapping of ${JSON.stringify(t)} yields events the catalogue refuses (${issues.length} ${issues.length === 1 ? 'issue' : 'issues'}, first: ${issues[0]!.path} ${issues[0]!.message})`, issues);
  }
  return { wmsEventType: t, dedupeKey: String(k), events: result };
}
