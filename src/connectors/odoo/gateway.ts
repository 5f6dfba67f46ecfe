/**
 * The Odoo gateway: every Odoo-bound call of the connector goes through one `OdooGateway`
 * per Odoo, which makes the calls safe and few.
 *
 * Few calls:
 * - reads of one model are coalesced: requests arriving within `windowMs` or while the
 *   in-flight limit is reached become one `read` of the union of ids and fields, and each
 *   caller gets its own rows;
 * - writes are queued per record: successive writes to a record merge (last value wins per
 *   field) until a slot is free to send them; records whose pending values are identical
 *   go out together as one `write([ids], vals)`; records with the same scalar fields but
 *   different values go out together as one `load(['.id', ...fields], rows)` (Odoo's
 *   importer: one call, a row per record), unless `bulk: 'write'`;
 * - creates of one model are batched into one `create([vals, ...])`, and natural-key
 *   look-ups into one `search_read([[field, 'in', values]])`.
 *
 * Safe calls:
 * - a create first looks its natural key up (or asks the cross-reference registry) and
 *   returns the existing id; after a failure that may have reached Odoo (timeout, cut
 *   connection) it looks the key up again before repeating, so a lost answer never makes a
 *   duplicate; a create without a natural key is not repeated after such a failure;
 * - after such a failure on a write or a load, the records are read back: values already
 *   there count as done, only the others are written again;
 * - a `load` answering error messages changed nothing (Odoo rolls the whole call back): the
 *   rows without a message are loaded again and the faulty ones written one by one, so only
 *   the faulty record fails, with Odoo's own error;
 * - a method returning None (`cannot marshal None` over XML-RPC, no `result` over
 *   JSON-RPC) counts as done once the caller's `verify` re-read agrees;
 * - transient failures (serialization failures, session expiry, 5xx, timeouts, refused
 *   connections) are retried with exponential backoff and jitter;
 * - at most `concurrency` calls are in flight (default 4) and a token bucket limits the
 *   call rate;
 * - a circuit breaker opens after `breaker.threshold` consecutive failures that say Odoo is
 *   unreachable; while open nothing is sent, every queued and new call waits (and keeps
 *   coalescing); a `version` probe after the cool-down closes it and the queue drains.
 *
 * Events: 'breaker' ({ state, failures, coolDownMs, error? }) and 'retry' ({ model, method,
 * attempt, delayMs, code }).
 */
import { EventEmitter } from 'node:events';
import { HubError, PermanentError } from '../../domain/errors.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import { NO_RESULT, type OdooClient } from './client.ts';
import { OdooFailureCause, type OdooFailure } from './errors.ts';
import {
  backoffDelay,
  CircuitBreaker,
  realSleep,
  Semaphore,
  TokenBucket,
  type BackoffPolicy,
  type BreakerState,
  type Release,
  type Sleep,
} from './gateway-limits.ts';

export type Vals = Record<string, unknown>;
export type OdooRow = Record<string, unknown> & { id: number };

export interface NaturalKey {
  /** A field that identifies the record in Odoo: client_order_ref, origin, ref, default_code... */
  field: string;
  value: string | number;
}

export interface CreateOptions {
  /** Looked up first (`search([[field, '=', value]])`); set in the values when absent. */
  naturalKey?: NaturalKey | undefined;
  /** Asks the cross-reference registry for an Odoo id already known for this record. */
  xref?: () => Promise<number | undefined>;
}

export interface CallMethodOptions {
  /** The method returns None: `cannot marshal None` and a missing `result` mean it ran. */
  returnsNone?: boolean;
  /** Re-reads and says whether the method's effect is there (used after None and after lost answers). */
  verify?: () => Promise<boolean>;
  /** Repeating the call is harmless: retried after a lost answer without verifying. */
  idempotent?: boolean;
}

export interface OdooGatewayOptions {
  /** In-flight calls to this Odoo. Default 4. */
  concurrency?: number;
  /** Calls per second (token bucket). Default 200; Infinity disables. */
  ratePerSecond?: number;
  /** Token bucket size. Default ratePerSecond / 10. */
  burst?: number;
  /** How long a new read/write/create waits for others to join it. Default 2 ms. */
  windowMs?: number;
  /** Most ids per read or write, most values per create, most rows per load. Default 500. */
  maxBatch?: number;
  /**
   * How records with the same fields but different values are written: `'load'` (default)
   * sends them as one `load(['.id', ...fields], rows)`; `'write'` sends one `write` per
   * distinct set of values.
   */
  bulk?: 'load' | 'write';
  /** Attempts per call, the first included (failures while the breaker opens do not count). Default 8. */
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
  breaker?: { threshold?: number; coolDownMs?: number; maxCoolDownMs?: number };
  /** The source of time of the breaker, backoff and rate limit. */
  clock?: Clock;
  /** How backoff, cool-down and rate-limit waits happen (real timers by default). */
  sleep?: Sleep;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

export interface GatewayStats {
  /** Calls sent to Odoo, per `model.method` (attempts included). */
  calls: Record<string, number>;
  sent: number;
  retries: number;
  /** Most calls in flight at once. */
  maxInFlight: number;
  /** Caller writes absorbed into another write of the same record. */
  mergedWrites: number;
  /** Reads, writes and creates asked for by callers. */
  requested: { read: number; write: number; create: number };
  /** Calls formed by the coalescing lanes (first sends; retries not included). */
  batches: { read: number; write: number; create: number; lookup: number; load: number };
  /** Writes (and loads) sent again because a read after a lost answer showed their values missing. */
  rewrites: number;
  /** Creates answered by an existing record (natural key or registry). */
  deduplicated: number;
  breakerOpens: number;
}

export interface RetryEvent {
  model: string;
  method: string;
  attempt: number;
  delayMs: number;
  code: string;
}

export interface BreakerEvent {
  state: BreakerState;
  failures: number;
  coolDownMs: number;
  error?: unknown;
}

/** What to do after a failure that may have reached Odoo. */
type Settle<T> = { done: true; value: T } | { done: false; args?: unknown[] } | { fail: HubError };

interface InvokeOptions<T> {
  held?: Release | undefined;
  /** Called (after the backoff) when the failed attempt may have been applied. */
  settle?: (err: HubError) => Promise<Settle<T>>;
  /** Repeat without settling (reads, searches). */
  idempotent?: boolean;
}

interface Deferred<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

interface Lane {
  draining: boolean;
  /** Something can be sent now. */
  ready(): boolean;
  /** Takes the next batch; its job runs with the slot and must release it. */
  take(): ((slot: Release) => Promise<void>) | undefined;
}

interface ReadRequest extends Deferred<OdooRow[]> {
  ids: number[];
  fields: string[] | null;
}

interface PendingWrite {
  id: number;
  vals: Vals;
  key: string;
  waiters: Deferred<void>[];
}

interface WriteLane extends Lane {
  pending: Map<number, PendingWrite>;
  busy: Set<number>;
}

interface CreateRequest extends Deferred<number> {
  vals: Vals;
  naturalKey: NaturalKey | undefined;
}

interface LookupRequest extends Deferred<number | undefined> {
  value: string | number;
}

const UNREACHABLE = new Set(['odoo.unavailable', 'odoo.timeout', 'odoo.protocol']);
const NEVER_SENT_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function failureOf(err: HubError): OdooFailure | undefined {
  return err.cause instanceof OdooFailureCause ? err.cause.failure : undefined;
}

/** Whether a failed call certainly changed nothing in Odoo (so repeating it is safe). */
export function certainlyNotApplied(err: HubError): boolean {
  const f = failureOf(err);
  switch (err.code) {
    case 'odoo.serialization_failure':
    case 'odoo.session_expired':
    case 'odoo.rate_limited':
      return true;
    case 'odoo.unavailable':
      if (!f) return false;
      if (f.source === 'transport') return f.errno !== undefined && NEVER_SENT_ERRNO.has(f.errno);
      // nginx 502/503: Odoo behind it is gone; an Odoo OperationalError rolled back.
      if (f.source === 'http') return f.status === 502 || f.status === 503;
      return f.source === 'odoo';
    default:
      return false;
  }
}

function stableKey(vals: Vals): string {
  return JSON.stringify(Object.keys(vals).sort().map((k) => [k, vals[k]]));
}

function uniq(ids: number[]): number[] {
  return [...new Set(ids)];
}

/** Odoo x2many commands: 0 (create) is the only one that is not idempotent. */
function isIdempotentValue(v: unknown): boolean {
  return !(Array.isArray(v) && v.some((c) => Array.isArray(c) && c[0] === 0));
}

/** Compares a written value with what `read` returns; undefined when it cannot tell. */
function sameValue(written: unknown, read: unknown): boolean | undefined {
  const empty = (x: unknown) => x === false || x === null || x === '' || x === undefined;
  if (Array.isArray(written)) {
    // [[6, 0, ids]] against the ids read.
    if (written.length === 1 && Array.isArray(written[0]) && written[0][0] === 6 && Array.isArray(read)) {
      const want = [...((written[0][2] as number[]) ?? [])].sort((a, b) => a - b);
      const got = [...(read as number[])].sort((a, b) => a - b);
      return want.length === got.length && want.every((x, i) => x === got[i]);
    }
    return undefined;
  }
  if (written !== null && typeof written === 'object') return undefined;
  const r = Array.isArray(read) && read.length === 2 && typeof read[0] === 'number' ? read[0] : read; // many2one [id, name]
  if (empty(written) || empty(r)) return empty(written) && empty(r);
  if (typeof written === 'number' && typeof r === 'number') return Math.abs(written - r) <= 1e-9 * Math.max(1, Math.abs(written));
  return written === r;
}

/** Values `sameValue` can check against a read: scalars and a single [6, 0, ids] command. */
function comparable(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Array.isArray(v) && v.length === 1 && Array.isArray(v[0]) && v[0][0] === 6;
}

/** What `load` answers. */
interface LoadAnswer {
  ids: number[] | false;
  messages: { type?: string; record?: unknown; message?: string }[];
}

/** The field types `load` converts from text; x2many, binary and the like are written. */
const LOAD_TYPES = new Set(['char', 'text', 'html', 'selection', 'integer', 'float', 'monetary', 'boolean', 'date', 'datetime', 'many2one']);
const LOAD_DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOAD_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function fieldSet(vals: Vals): string {
  return Object.keys(vals).sort().join('\u0000');
}

/** Values `load` may carry: scalars only (the field types are checked once known). */
function loadableShape(vals: Vals): boolean {
  const values = Object.values(vals);
  return values.length > 0 && values.every((v) => v === null || v === false || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)));
}

/** A record's values as a `load` row (text, as Odoo's importer reads it), or undefined when `load` cannot say them. */
function encodeRow(w: PendingWrite, fields: string[], types: Map<string, string>): unknown[] | undefined {
  const row: unknown[] = [String(w.id)];
  for (const f of fields) {
    const t = types.get(f);
    const v = w.vals[f];
    if (!t || !LOAD_TYPES.has(t)) return undefined;
    if (v === false || v === null || v === undefined) {
      row.push(t === 'boolean' ? 'false' : '');
      continue;
    }
    switch (t) {
      case 'boolean':
        if (typeof v !== 'boolean') return undefined;
        row.push(v ? 'true' : 'false');
        break;
      case 'integer':
      case 'many2one':
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || (t === 'many2one' && v <= 0)) return undefined;
        row.push(String(v));
        break;
      case 'float':
      case 'monetary':
        if (typeof v !== 'number') return undefined;
        row.push(String(v));
        break;
      case 'date':
      case 'datetime':
        if (typeof v !== 'string' || !(t === 'date' ? LOAD_DATE : LOAD_DATETIME).test(v)) return undefined;
        row.push(v);
        break;
      default:
        // The importer stores an empty text as False; `write` keeps ''.
        if (typeof v !== 'string' || v === '') return undefined;
        row.push(v);
    }
  }
  return row;
}

function merge(into: Map<number, unknown>, from: Map<number, unknown>): Map<number, unknown> {
  for (const [k, v] of from) into.set(k, v);
  return into;
}

function asHubError(e: unknown): HubError | undefined {
  return e instanceof HubError ? e : undefined;
}

export class OdooGateway extends EventEmitter<{ breaker: [BreakerEvent]; retry: [RetryEvent] }> {
  readonly client: OdooClient;
  readonly #slots: Semaphore;
  readonly #bucket: TokenBucket | undefined;
  readonly #breaker: CircuitBreaker;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #windowMs: number;
  readonly #maxBatch: number;
  readonly #maxAttempts: number;
  readonly #bulk: 'load' | 'write';
  readonly #backoff: BackoffPolicy;
  /** Field types per model (`fields_get`), asked once when a load is first formed. */
  readonly #fieldTypes = new Map<string, Promise<Map<string, string>>>();
  readonly #reads = new Map<string, Lane & { pending: ReadRequest[] }>();
  readonly #writes = new Map<string, WriteLane>();
  readonly #creates = new Map<string, Lane & { pending: CreateRequest[] }>();
  readonly #lookups = new Map<string, Lane & { pending: LookupRequest[]; model: string; field: string }>();
  /** Creates under way by natural key: concurrent creates of one record share one. */
  readonly #creating = new Map<string, Promise<number>>();
  readonly #stats: GatewayStats = {
    calls: {},
    sent: 0,
    retries: 0,
    maxInFlight: 0,
    mergedWrites: 0,
    requested: { read: 0, write: 0, create: 0 },
    batches: { read: 0, write: 0, create: 0, lookup: 0, load: 0 },
    rewrites: 0,
    deduplicated: 0,
    breakerOpens: 0,
  };
  #closed = false;

  constructor(client: OdooClient, o: OdooGatewayOptions = {}) {
    super();
    this.client = client;
    const clock = o.clock ?? systemClock;
    this.#sleep = o.sleep ?? realSleep;
    this.#random = o.random ?? Math.random;
    this.#slots = new Semaphore(o.concurrency ?? 4);
    const rate = o.ratePerSecond ?? 200;
    this.#bucket = rate === Infinity ? undefined : new TokenBucket({ ratePerSecond: rate, burst: o.burst, clock, sleep: this.#sleep });
    this.#windowMs = o.windowMs ?? 2;
    this.#maxBatch = o.maxBatch ?? 500;
    this.#maxAttempts = o.maxAttempts ?? 8;
    this.#bulk = o.bulk ?? 'load';
    this.#backoff = { baseMs: o.backoff?.baseMs ?? 100, maxMs: o.backoff?.maxMs ?? 5000 };
    this.#breaker = new CircuitBreaker({
      threshold: o.breaker?.threshold ?? 5,
      coolDownMs: o.breaker?.coolDownMs ?? 1000,
      maxCoolDownMs: o.breaker?.maxCoolDownMs ?? 5000,
      clock,
      sleep: this.#sleep,
      probe: () => this.#probe(),
      onChange: (state, info) => this.emit('breaker', { state, ...info }),
    });
  }

  /** The breaker's state now. */
  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /** Counters since creation (a copy). */
  get stats(): GatewayStats {
    return structuredClone({ ...this.#stats, maxInFlight: this.#slots.maxInUse, breakerOpens: this.#breaker.opens });
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.#slots.inUse;
  }

  /** Tokens left in the rate limiter now (undefined without a rate limit): hub_connector_rate_limit_tokens. */
  get rateLimitTokens(): number | undefined {
    return this.#bucket?.tokens;
  }

  /** Work accepted and not finished yet (pending writes, reads, creates and look-ups). */
  get backlog(): number {
    let n = 0;
    for (const l of this.#reads.values()) n += l.pending.length;
    for (const l of this.#writes.values()) n += l.pending.size + l.busy.size;
    for (const l of this.#creates.values()) n += l.pending.length;
    for (const l of this.#lookups.values()) n += l.pending.length;
    return n + this.#slots.inUse;
  }

  /** Stops the breaker's probing and fails what is queued and not sent (`odoo.gateway_closed`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#breaker.dispose();
    const err = new PermanentError({ code: 'odoo.gateway_closed', message: 'the Odoo gateway is closed' });
    for (const l of this.#reads.values()) for (const r of l.pending.splice(0)) r.reject(err);
    for (const l of this.#creates.values()) for (const r of l.pending.splice(0)) r.reject(err);
    for (const l of this.#lookups.values()) for (const r of l.pending.splice(0)) r.reject(err);
    for (const l of this.#writes.values()) {
      for (const w of l.pending.values()) for (const d of w.waiters) d.reject(err);
      l.pending.clear();
    }
  }

  // ------------------------------------------------------------------ public operations

  /** `model.read(ids, fields)`, coalesced with concurrent reads of the model. Missing ids are left out, as Odoo does. */
  read(model: string, ids: number[], fields?: string[]): Promise<OdooRow[]> {
    this.#stats.requested.read++;
    const want = uniq(ids);
    if (want.length === 0) return Promise.resolve([]);
    let lane = this.#reads.get(model);
    if (!lane) {
      const l: Lane & { pending: ReadRequest[] } = {
        draining: false,
        pending: [],
        ready: () => l.pending.length > 0,
        take: () => this.#takeReads(model, l.pending),
      };
      this.#reads.set(model, l);
      lane = l;
    }
    const pending = lane.pending;
    const p = new Promise<OdooRow[]>((resolve, reject) => pending.push({ ids: want, fields: fields && fields.length ? [...fields] : null, resolve, reject }));
    this.#kick(lane);
    return p;
  }

  /**
   * `model.write([id], vals)`, queued per record: merged with the record's other pending
   * writes (last value wins per field) and grouped with records waiting for the same values.
   * Resolves once the values are in Odoo.
   */
  write(model: string, id: number, vals: Vals): Promise<void> {
    this.#stats.requested.write++;
    let lane = this.#writes.get(model);
    if (!lane) {
      const l: WriteLane = {
        draining: false,
        pending: new Map(),
        busy: new Set(),
        ready: () => {
          for (const rid of l.pending.keys()) if (!l.busy.has(rid)) return true;
          return false;
        },
        take: () => this.#takeWrites(model, l),
      };
      this.#writes.set(model, l);
      lane = l;
    }
    const w = lane;
    return new Promise<void>((resolve, reject) => {
      const cur = w.pending.get(id);
      if (cur) {
        Object.assign(cur.vals, vals);
        cur.key = stableKey(cur.vals);
        cur.waiters.push({ resolve, reject });
        this.#stats.mergedWrites++;
      } else {
        const v = { ...vals };
        w.pending.set(id, { id, vals: v, key: stableKey(v), waiters: [{ resolve, reject }] });
      }
      this.#kick(w);
    });
  }

  /**
   * Creates a record unless it exists: the registry (`xref`) and the natural key are asked
   * first. Concurrent creates of a model go out as one `create([vals, ...])`.
   */
  create(model: string, vals: Vals, opts: CreateOptions = {}): Promise<number> {
    this.#stats.requested.create++;
    const nk = opts.naturalKey;
    const key = nk ? `${model}\u0000${nk.field}\u0000${typeof nk.value}:${nk.value}` : undefined;
    if (key) {
      const running = this.#creating.get(key);
      if (running) {
        this.#stats.deduplicated++;
        return running;
      }
    }
    const p = this.#create(model, nk ? { ...vals, [nk.field]: vals[nk.field] ?? nk.value } : { ...vals }, nk, opts.xref);
    if (key) {
      this.#creating.set(key, p);
      const forget = () => {
        if (this.#creating.get(key) === p) this.#creating.delete(key);
      };
      p.then(forget, forget);
    }
    return p;
  }

  /** Looks a record up by natural key (coalesced per model and field). */
  lookup(model: string, key: NaturalKey): Promise<number | undefined> {
    const lk = `${model}\u0000${key.field}`;
    let lane = this.#lookups.get(lk);
    if (!lane) {
      const l: Lane & { pending: LookupRequest[]; model: string; field: string } = {
        draining: false,
        pending: [],
        model,
        field: key.field,
        ready: () => l.pending.length > 0,
        take: () => this.#takeLookups(l),
      };
      this.#lookups.set(lk, l);
      lane = l;
    }
    const pending = lane.pending;
    const p = new Promise<number | undefined>((resolve, reject) => pending.push({ value: key.value, resolve, reject }));
    this.#kick(lane);
    return p;
  }

  /**
   * Any other method (`action_confirm`, `button_validate`...), not batched. A method
   * declared `returnsNone` that answers None (either way) counts as done once `verify`
   * agrees; after a lost answer `verify` decides whether to repeat it.
   */
  async callMethod(model: string, method: string, ids: number[], kwargs: Record<string, unknown> = {}, opts: CallMethodOptions = {}): Promise<unknown> {
    const verifyOrFail = async (err: HubError): Promise<unknown> => {
      if (opts.verify && !(await opts.verify())) {
        throw new PermanentError({
          code: 'odoo.unverified',
          message: `${model}.${method} answered None but its effect is not visible`,
          cause: err,
        });
      }
      return NO_RESULT;
    };
    let value: unknown;
    try {
      value = await this.#invoke(model, method, [ids], kwargs, {
        idempotent: opts.idempotent ?? false,
        settle: opts.verify
          ? async () => ((await opts.verify!()) ? { done: true, value: NO_RESULT as unknown } : { done: false })
          : undefined,
      });
    } catch (e) {
      const err = asHubError(e);
      if (err && err.code === 'odoo.cannot_marshal_none' && opts.returnsNone) return verifyOrFail(err);
      throw e;
    }
    if (value === NO_RESULT && opts.returnsNone) {
      return verifyOrFail(new PermanentError({ code: 'odoo.no_result', message: `${model}.${method} returned None` }));
    }
    return value;
  }

  /** A direct call with the gateway's limits and retries (idempotent calls only: search, read...). */
  call(model: string, method: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    return this.#invoke(model, method, args, kwargs, { idempotent: true });
  }

  // ------------------------------------------------------------------ lanes

  /** Starts draining a lane after the coalescing window, unless it is draining already. */
  #kick(lane: Lane): void {
    if (lane.draining || this.#closed) return;
    lane.draining = true;
    void this.#drain(lane);
  }

  async #drain(lane: Lane): Promise<void> {
    try {
      if (this.#windowMs > 0) await new Promise((r) => setTimeout(r, this.#windowMs));
      else await new Promise((r) => setImmediate(r));
      while (lane.ready() && !this.#closed) {
        const slot = await this.#acquire();
        const job = lane.take();
        if (!job) {
          slot();
          break;
        }
        void job(slot);
      }
    } catch {
      // Only a disposed breaker ends up here; the callers are told by their own jobs.
    } finally {
      lane.draining = false;
    }
    if (lane.ready() && !this.#closed) this.#kick(lane);
  }

  /** A slot to send one call: waits while the breaker is open and while the limit is reached. */
  async #acquire(): Promise<Release> {
    for (;;) {
      await this.#breaker.admit();
      const release = await this.#slots.acquire();
      if (this.#breaker.state === 'closed') return release;
      release();
    }
  }

  #takeReads(model: string, pending: ReadRequest[]): ((slot: Release) => Promise<void>) | undefined {
    if (!pending.length) return undefined;
    const batch: ReadRequest[] = [];
    const ids = new Set<number>();
    while (pending.length) {
      const next = pending[0]!;
      const add = next.ids.filter((id) => !ids.has(id)).length;
      if (batch.length && ids.size + add > this.#maxBatch) break;
      pending.shift();
      batch.push(next);
      for (const id of next.ids) ids.add(id);
    }
    let fields: Set<string> | null = new Set();
    for (const r of batch) {
      if (r.fields === null) {
        fields = null;
        break;
      }
      for (const f of r.fields) fields.add(f);
    }
    const args: unknown[] = fields ? [[...ids], [...fields]] : [[...ids]];
    this.#stats.batches.read++;
    return async (slot) => {
      try {
        const rows = (await this.#invoke(model, 'read', args, {}, { held: slot, idempotent: true })) as OdooRow[];
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const r of batch) {
          const out: OdooRow[] = [];
          for (const id of r.ids) {
            const row = byId.get(id);
            if (!row) continue;
            if (r.fields === null || (fields !== null && r.fields.length === fields.size)) out.push({ ...row });
            else {
              const o: OdooRow = { id: row.id };
              for (const f of r.fields) if (f in row) o[f] = row[f];
              out.push(o);
            }
          }
          r.resolve(out);
        }
      } catch (e) {
        for (const r of batch) r.reject(e);
      }
    };
  }

  #takeWrites(model: string, lane: WriteLane): ((slot: Release) => Promise<void>) | undefined {
    let key: string | undefined;
    const batch: PendingWrite[] = [];
    for (const w of lane.pending.values()) {
      if (lane.busy.has(w.id)) continue;
      if (key === undefined) key = w.key;
      if (w.key !== key) continue;
      batch.push(w);
      if (batch.length >= this.#maxBatch) break;
    }
    if (!batch.length) return undefined;
    if (this.#bulk === 'load' && batch.length === 1) {
      const rows = this.#loadRows(lane, batch[0]!);
      if (rows.length > 1) {
        this.#claim(lane, rows);
        this.#stats.batches.load++;
        return async (slot) => this.#settleWrites(lane, rows, await this.#sendLoad(model, rows, slot, true));
      }
    }
    this.#claim(lane, batch);
    const vals = batch[0]!.vals;
    this.#stats.batches.write++;
    return async (slot) => this.#settleWrites(lane, batch, await this.#sendWrite(model, batch.map((w) => w.id), vals, slot));
  }

  #claim(lane: WriteLane, batch: PendingWrite[]): void {
    for (const w of batch) {
      lane.pending.delete(w.id);
      lane.busy.add(w.id);
    }
  }

  /** Tells the callers of a sent batch (an error per failed record) and lets the lane go on. */
  #settleWrites(lane: WriteLane, batch: PendingWrite[], outcome: Map<number, unknown>): void {
    for (const w of batch) {
      lane.busy.delete(w.id);
      const err = outcome.get(w.id);
      for (const d of w.waiters) (err === undefined ? d.resolve() : d.reject(err));
    }
    if (lane.ready()) this.#kick(lane);
  }

  /**
   * Records that can share a `load` with `first`: waiting (not in flight), alone with their
   * values (identical values go out as one `write`), with the same fields as `first`, and
   * with plain scalar values only.
   */
  #loadRows(lane: WriteLane, first: PendingWrite): PendingWrite[] {
    if (!loadableShape(first.vals)) return [];
    const shape = fieldSet(first.vals);
    const seen = new Map<string, number>();
    for (const w of lane.pending.values()) if (!lane.busy.has(w.id)) seen.set(w.key, (seen.get(w.key) ?? 0) + 1);
    const rows: PendingWrite[] = [];
    for (const w of lane.pending.values()) {
      if (lane.busy.has(w.id) || seen.get(w.key) !== 1) continue;
      if (fieldSet(w.vals) !== shape || !loadableShape(w.vals)) continue;
      rows.push(w);
      if (rows.length >= this.#maxBatch) break;
    }
    return rows;
  }

  /** `fields_get` types of a model, asked once (again after a failure), with `slot`. */
  #typesOf(model: string, slot: Release | undefined): Promise<Map<string, string>> {
    const p = (async () => {
      const fg = (await this.#invoke(model, 'fields_get', [], { attributes: ['type'] }, { held: slot, idempotent: true })) as Record<string, { type?: unknown }>;
      return new Map(Object.entries(fg).map(([f, d]) => [f, String(d?.type ?? '')]));
    })();
    this.#fieldTypes.set(model, p);
    p.catch(() => this.#fieldTypes.delete(model));
    return p;
  }

  /**
   * One `load` of records with the same fields and their own values. Rows `load` cannot
   * express are written; error messages (nothing was written) send the clean rows once more
   * as a load (`reload`) and the faulty ones as single writes, which fail with Odoo's error.
   */
  async #sendLoad(model: string, batch: PendingWrite[], slot: Release | undefined, reload: boolean): Promise<Map<number, unknown>> {
    let held = slot;
    let types: Map<string, string>;
    try {
      const known = this.#fieldTypes.get(model);
      if (known) types = await known;
      else {
        held = undefined;
        types = await this.#typesOf(model, slot);
      }
    } catch {
      held?.();
      return this.#writeEach(model, batch);
    }
    const fields = Object.keys(batch[0]!.vals).sort();
    const columns = fields.map((f) => (types.get(f) === 'many2one' ? `${f}/.id` : f));
    const encoded = new Map<number, unknown[]>();
    for (const w of batch) {
      const row = encodeRow(w, fields, types);
      if (row) encoded.set(w.id, row);
    }
    let rows = batch.filter((w) => encoded.has(w.id));
    if (rows.length < 2) {
      held?.();
      return this.#writeEach(model, batch);
    }
    // Started alongside the load (which holds the slot), awaited at the end.
    const side = this.#writeEach(model, batch.filter((w) => !encoded.has(w.id)));
    const outcome = new Map<number, unknown>();
    const argsOf = (ws: PendingWrite[]): unknown[] => [['.id', ...columns], ws.map((w) => encoded.get(w.id)!)];
    let answer: LoadAnswer;
    try {
      answer = (await this.#invoke(model, 'load', argsOf(rows), { context: { tz: 'UTC' } }, {
        held,
        settle: async () => {
          const left = await this.#unappliedRows(model, rows);
          if (!left.length) return { done: true, value: { ids: rows.map((w) => w.id), messages: [] } as LoadAnswer };
          this.#stats.rewrites++;
          rows = left;
          return { done: false, args: argsOf(left) };
        },
      })) as LoadAnswer;
    } catch (e) {
      const err = asHubError(e);
      // A load refused as a whole (no `load` method, no access...): the records are written.
      if (err && !err.retryable) return merge(merge(outcome, await side), await this.#writeEach(model, rows));
      for (const w of rows) outcome.set(w.id, e);
      return merge(outcome, await side);
    }
    merge(outcome, await side);
    const errors = (Array.isArray(answer?.messages) ? answer.messages : []).filter((m) => m?.type === 'error');
    if (answer?.ids !== false && !errors.length) return outcome;
    // Odoo rolled the whole load back: nothing of it was written.
    const located = errors.length > 0 && errors.every((m) => typeof m.record === 'number' && rows[m.record] !== undefined);
    const faulty = new Set<number>(located ? errors.map((m) => rows[m.record as number]!.id) : rows.map((w) => w.id));
    const clean = rows.filter((w) => !faulty.has(w.id));
    const culprits = rows.filter((w) => faulty.has(w.id));
    const again = reload && clean.length > 1
      ? (this.#stats.batches.load++, this.#sendLoad(model, clean, undefined, false))
      : this.#writeEach(model, clean);
    const [a, b] = await Promise.all([again, this.#writeEach(model, culprits)]);
    return merge(merge(outcome, a), b);
  }

  /** Records written with `write`, one call per set of identical values. */
  async #writeEach(model: string, batch: PendingWrite[]): Promise<Map<number, unknown>> {
    const groups = new Map<string, PendingWrite[]>();
    for (const w of batch) {
      const g = groups.get(w.key);
      if (g) g.push(w);
      else groups.set(w.key, [w]);
    }
    const out = new Map<number, unknown>();
    const sent = [...groups.values()].map((g) => {
      this.#stats.batches.write++;
      return this.#sendWrite(model, g.map((w) => w.id), g[0]!.vals, undefined);
    });
    for (const m of await Promise.all(sent)) merge(out, m);
    return out;
  }

  /** Rows whose values are not (all) in Odoo, each compared with its own values. */
  async #unappliedRows(model: string, rows: PendingWrite[]): Promise<PendingWrite[]> {
    const fields = [...new Set(rows.flatMap((w) => Object.keys(w.vals)))];
    const read = (await this.#invoke(model, 'read', [rows.map((w) => w.id), fields], {}, { idempotent: true })) as OdooRow[];
    const byId = new Map(read.map((r) => [r.id, r]));
    return rows.filter((w) => {
      const row = byId.get(w.id);
      if (!row) return false; // deleted meanwhile: writing again would only fail
      return Object.entries(w.vals).some(([f, v]) => sameValue(v, row[f]) !== true);
    });
  }

  /** One grouped write; a group refused as a whole is retried record by record to isolate the culprit. */
  async #sendWrite(model: string, ids: number[], vals: Vals, slot: Release | undefined): Promise<Map<number, unknown>> {
    const outcome = new Map<number, unknown>();
    try {
      await this.#invoke(model, 'write', [ids, vals], {}, {
        held: slot,
        settle: async (err) => {
          const left = await this.#unapplied(model, ids, vals);
          if (left === undefined) return Object.values(vals).every(isIdempotentValue) ? { done: false } : { fail: err };
          if (!left.length) return { done: true, value: true };
          this.#stats.rewrites++;
          ids = left;
          return { done: false, args: [left, vals] };
        },
      });
    } catch (e) {
      const err = asHubError(e);
      if (ids.length > 1 && err && !err.retryable) {
        this.#stats.batches.write += ids.length;
        const each = await Promise.all(ids.map((id) => this.#sendWrite(model, [id], vals, undefined)));
        for (const m of each) for (const [id, v] of m) outcome.set(id, v);
        return outcome;
      }
      for (const id of ids) outcome.set(id, e);
    }
    return outcome;
  }

  /** Ids whose values are not (all) in Odoo; undefined when the values cannot be compared. */
  async #unapplied(model: string, ids: number[], vals: Vals): Promise<number[] | undefined> {
    const fields = Object.keys(vals).filter((f) => comparable(vals[f]));
    if (!fields.length) return undefined;
    const rows = (await this.#invoke(model, 'read', [ids, fields], {}, { idempotent: true })) as OdooRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const left: number[] = [];
    let compared = false;
    for (const id of ids) {
      const row = byId.get(id);
      if (!row) continue; // deleted meanwhile: writing again would only fail
      for (const f of fields) {
        const same = sameValue(vals[f], row[f]);
        if (same === undefined) continue;
        compared = true;
        if (!same) {
          left.push(id);
          break;
        }
      }
    }
    return compared || rows.length === 0 ? left : undefined;
  }

  async #create(model: string, vals: Vals, nk: NaturalKey | undefined, xref: (() => Promise<number | undefined>) | undefined): Promise<number> {
    if (xref) {
      const id = await xref();
      if (id !== undefined) {
        this.#stats.deduplicated++;
        return id;
      }
    }
    if (nk) {
      const id = await this.lookup(model, nk);
      if (id !== undefined) {
        this.#stats.deduplicated++;
        return id;
      }
    }
    let lane = this.#creates.get(model);
    if (!lane) {
      const l: Lane & { pending: CreateRequest[] } = {
        draining: false,
        pending: [],
        ready: () => l.pending.length > 0,
        take: () => this.#takeCreates(model, l.pending),
      };
      this.#creates.set(model, l);
      lane = l;
    }
    const pending = lane.pending;
    const p = new Promise<number>((resolve, reject) => pending.push({ vals, naturalKey: nk, resolve, reject }));
    this.#kick(lane);
    return p;
  }

  #takeCreates(model: string, pending: CreateRequest[]): ((slot: Release) => Promise<void>) | undefined {
    if (!pending.length) return undefined;
    const batch = pending.splice(0, this.#maxBatch);
    this.#stats.batches.create++;
    return (slot) => this.#sendCreates(model, batch, slot);
  }

  async #sendCreates(model: string, batch: CreateRequest[], slot: Release | undefined): Promise<void> {
    let items = batch;
    try {
      const ids = (await this.#invoke(model, 'create', [items.map((i) => i.vals)], {}, {
        held: slot,
        settle: async (err) => {
          // The answer is lost: whatever has a natural key and exists now was created.
          const keep: CreateRequest[] = [];
          const found = await Promise.all(items.map((i) => (i.naturalKey ? this.lookup(model, i.naturalKey) : Promise.resolve(undefined))));
          items.forEach((item, k) => {
            const id = found[k];
            if (id !== undefined) item.resolve(id);
            else if (!item.naturalKey) item.reject(err);
            else keep.push(item);
          });
          items = keep;
          return keep.length ? { done: false, args: [keep.map((i) => i.vals)] } : { done: true, value: [] as number[] };
        },
      })) as number[] | number;
      const list = Array.isArray(ids) ? ids : [ids];
      items.forEach((item, k) => {
        const id = list[k];
        if (typeof id === 'number') item.resolve(id);
        else item.reject(new PermanentError({ code: 'odoo.protocol', message: `${model}.create answered ${list.length} id(s) for ${items.length} value(s)` }));
      });
    } catch (e) {
      const err = asHubError(e);
      // A batch create is one transaction: refused as a whole, nothing was created.
      if (items.length > 1 && err && !err.retryable) {
        await Promise.all(items.map((i) => this.#sendCreates(model, [i], undefined)));
        return;
      }
      for (const i of items) i.reject(e);
    }
  }

  #takeLookups(lane: { pending: LookupRequest[]; model: string; field: string }): ((slot: Release) => Promise<void>) | undefined {
    if (!lane.pending.length) return undefined;
    const batch = lane.pending.splice(0, this.#maxBatch);
    const values = [...new Set(batch.map((b) => b.value))];
    const { model, field } = lane;
    this.#stats.batches.lookup++;
    return async (slot) => {
      try {
        const rows = (await this.#invoke(model, 'search_read', [[[field, 'in', values]], [field]], { order: 'id', context: { active_test: false } }, {
          held: slot,
          idempotent: true,
        })) as OdooRow[];
        const first = new Map<unknown, number>();
        for (const r of rows) if (!first.has(r[field])) first.set(r[field], r.id);
        for (const b of batch) b.resolve(first.get(b.value));
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    };
  }

  // ------------------------------------------------------------------ sending

  async #probe(): Promise<unknown> {
    this.#count('common', 'version');
    return this.client.ping ? this.client.ping() : this.client.call('res.users', 'check_access_rights', ['read'], { raise_exception: false });
  }

  #count(model: string, method: string): void {
    const k = `${model}.${method}`;
    this.#stats.calls[k] = (this.#stats.calls[k] ?? 0) + 1;
    this.#stats.sent++;
  }

  /**
   * Sends one call with the limits, retrying transient failures. `held` is a slot already
   * taken for the first attempt. After a failure that may have been applied, `settle`
   * decides (after the backoff) whether it is done, to be repeated (with new arguments) or
   * failed; without `settle`, only idempotent calls are repeated.
   */
  async #invoke<T>(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>, o: InvokeOptions<T>): Promise<T> {
    let slot = o.held;
    let attempt = 0;
    for (;;) {
      attempt++;
      if (!slot) slot = await this.#acquire();
      let err: HubError;
      try {
        if (this.#bucket) await this.#bucket.take();
        this.#count(model, method);
        const value = (await this.client.call(model, method, args, kwargs)) as T;
        this.#breaker.success();
        return value;
      } catch (e) {
        const h = asHubError(e);
        if (!h) throw e;
        err = h;
      } finally {
        slot();
        slot = undefined;
      }
      if (UNREACHABLE.has(err.code)) this.#breaker.failure(err);
      else this.#breaker.success();
      if (!err.retryable) throw err;
      // An outage is the breaker's business, not the call's retry budget.
      if (this.#breaker.state !== 'closed') attempt--;
      if (attempt >= this.#maxAttempts) throw err;
      const hinted = failureOf(err)?.retryAfterMs ?? (err.code === 'odoo.timeout' ? err.retryAfterMs : undefined) ?? 0;
      const delayMs = Math.max(backoffDelay(attempt, this.#backoff, this.#random), hinted);
      this.#stats.retries++;
      this.emit('retry', { model, method, attempt, delayMs, code: err.code });
      await this.#sleep(delayMs);
      if (!certainlyNotApplied(err)) {
        if (o.settle) {
          const s = await o.settle(err);
          if ('fail' in s) throw s.fail;
          if (s.done) return s.value;
          if (s.args) args = s.args;
        } else if (!o.idempotent) {
          throw err;
        }
      }
    }
  }
}
