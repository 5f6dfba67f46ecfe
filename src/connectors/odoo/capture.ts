/**
 * Change capture from one tenant's Odoo database: a poller per model with a persisted
 * `write_date` cursor, emitting canonical events into the inbox.
 *
 * Cursor (README item 5 of the Odoo 18 transcripts): Odoo returns write_date truncated to
 * the second while it stores microseconds, so `write_date > last` re-reads a crowded second
 * forever and `=` matches nothing. Each (tenant, model) keeps `{at, idsAtAt}` in
 * hub_odoo_cursors: the last second seen and the ids already emitted at that second. A page
 * is `search_read([write_date >= at, '|', write_date >= at + 1 s, id not in idsAtAt],
 * fields, order 'write_date asc, id asc', limit N)`: the `'|'` keeps a record of idsAtAt
 * that was written again in a later second (see cursorDomain). The page's events are ingested and the cursor advanced in one
 * transaction, so a crash re-reads the page and the inbox drops what it already has.
 *
 * Event ids are deterministic: `odoo:<model>:<id>:<write_date>:<digest of the data>` for a
 * record version (a full snapshot), `odoo:<model>:<id>:<key>` for a milestone (mappers.ts
 * `dedupe`), so a re-read, a restart or a webhook hint emits nothing new. A record that cannot
 * be mapped raises one `exception.raised.v1` (class mapping_error) per version, and the cursor
 * moves on.
 *
 * Webhook payloads (Odoo's "send webhook notification" automation) are hints only: `hint`
 * reads the named records again and emits through the same path; the payload's own values
 * are never used, and the cursor is not touched (the poller still passes over them later and
 * finds their events already stored).
 *
 * Two writes to one record within the same second share one truncated write_date, and the
 * cursor has already passed the record when a poll ran between them. So a poll first reads the
 * records of idsAtAt again (those still at that second) and the digest in the event id tells a
 * second write from a re-read. The re-check stops after RECHECKS polls found nothing new at that
 * second (counted in memory: a restarted hub checks again).
 */
import { createHash } from 'node:crypto';
import { withTx } from '../../platform/db.ts';
import { canonicalJson } from '../../security/audit.ts';
import type pg from 'pg';
import { dataschemaUrl, dataTimeOf, keyOf } from '../../domain/catalogue.ts';
import type { EventData, EventType } from '../../domain/catalogue.ts';
import type { EntityName } from '../../domain/model.ts';
import type { Clock } from '../../platform/clock.ts';
import { systemClock } from '../../platform/clock.ts';
import { ingest } from '../../pipeline/inbox.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';
import type { OdooClient } from './client.ts';
import { expectResult } from './client.ts';
import { OdooFieldCatalog } from './fields.ts';
import {
  CAPTURED_MODELS,
  ODOO_FIELDS,
  RELATED_FIELDS,
  m2oId,
  mapRecord,
  odooDatetime,
  x2mIds,
  type CapturedModel,
  type MappedEvent,
  type OdooMappingError,
  type OdooRecord,
  type RelatedRecords,
} from './mappers.ts';

// ------------------------------------------------------------------ cursor

export interface CaptureCursor {
  /** Odoo's `YYYY-MM-DD HH:MM:SS` (UTC): the last write_date second seen. */
  at: string;
  /** Ids already emitted at exactly `at`. */
  idsAtAt: number[];
}

export const EPOCH_CURSOR: CaptureCursor = { at: '1970-01-01 00:00:00', idsAtAt: [] };

/** The cursor after a page (records in `write_date asc, id asc` order). */
export function advanceCursor(cursor: CaptureCursor, page: readonly { id: number; write_date?: unknown }[]): CaptureCursor {
  let at = cursor.at;
  let ids = new Set(cursor.idsAtAt);
  for (const r of page) {
    const w = typeof r.write_date === 'string' ? r.write_date.slice(0, 19) : undefined;
    if (!w || w < at) continue; // never backwards
    if (w > at) {
      at = w;
      ids = new Set();
    }
    ids.add(r.id);
  }
  return { at, idsAtAt: [...ids].sort((a, b) => a - b) };
}

/** `YYYY-MM-DD HH:MM:SS` plus one second. */
export function nextSecond(at: string): string {
  const t = Date.parse(at.replace(' ', 'T') + 'Z');
  return new Date(t + 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The search domain of the next page: everything from the cursor's second on, except the
 * ids already emitted at that second, unless they were written again in a later second
 * (`id not in` alone would hide such a record forever). `>` cannot express "a later second":
 * Odoo compares the truncated value with stored microseconds, so `write_date > at` also
 * matches rows of second `at` itself.
 */
export function cursorDomain(cursor: CaptureCursor): unknown[] {
  const d: unknown[] = [['write_date', '>=', cursor.at]];
  if (cursor.idsAtAt.length) d.push('|', ['write_date', '>=', nextSecond(cursor.at)], ['id', 'not in', cursor.idsAtAt]);
  return d;
}

export async function loadCursor(db: pg.Pool | pg.PoolClient, tenantId: string, model: string, forUpdate = false): Promise<CaptureCursor | undefined> {
  const r = await db.query<{ at: string; ids_at_at: string[] }>(
    `select at, ids_at_at from hub_odoo_cursors where tenant_id = $1 and model = $2${forUpdate ? ' for update' : ''}`,
    [tenantId, model],
  );
  const row = r.rows[0];
  return row ? { at: row.at, idsAtAt: row.ids_at_at.map(Number) } : undefined;
}

async function saveCursor(c: pg.PoolClient, tenantId: string, model: string, cursor: CaptureCursor): Promise<void> {
  await c.query(
    `insert into hub_odoo_cursors (tenant_id, model, at, ids_at_at, updated_at) values ($1, $2, $3, $4::bigint[], now())
     on conflict (tenant_id, model) do update set at = excluded.at, ids_at_at = excluded.ids_at_at, updated_at = now()`,
    [tenantId, model, cursor.at, cursor.idsAtAt],
  );
}

const sameCursor = (a: CaptureCursor, b: CaptureCursor) => a.at === b.at && a.idsAtAt.length === b.idsAtAt.length && a.idsAtAt.every((x, i) => x === b.idsAtAt[i]);

// ------------------------------------------------------------------ related records

interface RelatedStep {
  model: keyof typeof RELATED_FIELDS;
  ids: (records: OdooRecord[], related: Record<string, Map<number, OdooRecord>>) => number[];
}

const all = <T>(xs: T[], f: (x: T) => number[]): number[] => xs.flatMap(f);
const many2one = (field: string) => (r: OdooRecord) => {
  const id = m2oId(r[field]);
  return id === undefined ? [] : [id];
};
const productsOf = (lineModel: string) => (_: OdooRecord[], rel: Record<string, Map<number, OdooRecord>>) => all([...(rel[lineModel]?.values() ?? [])], many2one('product_id'));

/** What each model's mapper needs besides the record, read in this order. */
const RELATED_STEPS: Record<CapturedModel, RelatedStep[]> = {
  'res.partner': [],
  'product.product': [],
  'sale.order': [
    { model: 'sale.order.line', ids: (rs) => all(rs, (r) => x2mIds(r['order_line'])) },
    { model: 'res.partner', ids: (rs) => all(rs, (r) => [...many2one('partner_shipping_id')(r), ...many2one('partner_invoice_id')(r), ...many2one('partner_id')(r)]) },
    { model: 'product.product', ids: productsOf('sale.order.line') },
  ],
  'stock.picking': [
    { model: 'stock.move', ids: (rs) => all(rs, (r) => x2mIds(r['move_ids'])) },
    { model: 'res.partner', ids: (rs) => all(rs, many2one('partner_id')) },
    { model: 'product.product', ids: productsOf('stock.move') },
  ],
  'purchase.order': [
    { model: 'purchase.order.line', ids: (rs) => all(rs, (r) => x2mIds(r['order_line'])) },
    { model: 'stock.picking.type', ids: (rs) => all(rs, many2one('picking_type_id')) },
    { model: 'product.product', ids: productsOf('purchase.order.line') },
  ],
  'account.move': [
    { model: 'account.move.line', ids: (rs) => all(rs, (r) => x2mIds(r['invoice_line_ids'])) },
    { model: 'product.product', ids: productsOf('account.move.line') },
  ],
  'stock.quant': [{ model: 'product.product', ids: (rs) => all(rs, many2one('product_id')) }],
};

const READ_CHUNK = 1000;
/** Polls that read the records of the cursor's last second again before it counts as settled. */
const RECHECKS = 2;

/** A short digest of an event's data, so a changed record within one write_date second is a new event. */
function digest(data: unknown): string {
  return createHash('sha256').update(canonicalJson(data)).digest('base64url').slice(0, 12);
}

// ------------------------------------------------------------------ scheduling

/** Timers, injectable so tests drive the poll loop by hand. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

// ------------------------------------------------------------------ the capture

export interface ChangeCaptureOptions {
  pool: pg.Pool;
  /** The hub tenant this Odoo database belongs to. */
  tenantId: string;
  client: OdooClient;
  /** CloudEvents source of the emitted events. Default `urn:hub:connector:odoo:<tenantId>`. */
  source?: string;
  models?: readonly CapturedModel[];
  /** Records per search_read page. Default 200. */
  pageSize?: number;
  /** Pages per model and poll, so one busy model cannot starve the others. Default 50. */
  maxPagesPerPoll?: number;
  /** Time between polls after `start`. Default 30 s. */
  intervalMs?: number;
  /** Where a model without a stored cursor starts. Default 1970-01-01 00:00:00 (everything). */
  startAt?: string;
  scheduler?: Scheduler;
  clock?: Clock;
  /** Called with a poll that failed (the loop goes on at the next interval). */
  onError?: (err: unknown) => void;
  /** Called once per model with the fields the mappers read that this Odoo does not have. */
  onMissingFields?: (model: string, fields: string[]) => void;
  /** Called after each completed poll of a model (not after a skipped one). */
  onPolled?: (report: CaptureReport) => void;
}

export interface CaptureReport {
  model: CapturedModel;
  pages: number;
  /** records read by the page query */
  records: number;
  /** records of the cursor's last second read again (their events count in emitted when new) */
  rechecked?: number;
  /** events built (mapping errors included) */
  events: number;
  /** events stored that the inbox did not have yet */
  emitted: number;
  duplicates: number;
  mappingErrors: number;
  cursor: CaptureCursor;
  /** the poll did not run: another hub process is polling this tenant's model right now */
  skipped?: 'locked';
}

const ENTITY_OF: Record<CapturedModel, { entity: EntityName; prefix: string }> = {
  'res.partner': { entity: 'party', prefix: 'pty' },
  'product.product': { entity: 'item', prefix: 'itm' },
  'sale.order': { entity: 'order', prefix: 'ord-odoo' },
  'stock.picking': { entity: 'shipment', prefix: 'shp' },
  'purchase.order': { entity: 'purchase-order', prefix: 'po' },
  'account.move': { entity: 'customer-invoice', prefix: 'inv' },
  'stock.quant': { entity: 'item', prefix: 'quant' },
};

export class ChangeCapture {
  readonly tenantId: string;
  readonly source: string;
  readonly models: readonly CapturedModel[];
  private readonly pool: pg.Pool;
  private readonly client: OdooClient;
  private readonly fields: OdooFieldCatalog;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly intervalMs: number;
  private readonly startAt: string;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly onError: (err: unknown) => void;
  private readonly onPolled: (report: CaptureReport) => void;
  private timer: unknown;
  private running = false;
  private inFlight: Promise<unknown> | undefined;
  /** One poll or hint at a time per model (they share the ingest path). */
  private readonly locks = new Map<CapturedModel, Promise<unknown>>();
  /** Per model: the cursor second last re-checked and how many re-checks found nothing new. */
  private readonly rechecked = new Map<CapturedModel, { at: string; count: number }>();

  constructor(o: ChangeCaptureOptions) {
    this.pool = o.pool;
    this.tenantId = o.tenantId;
    this.client = o.client;
    this.fields = new OdooFieldCatalog(o.client, o.onMissingFields);
    this.source = o.source ?? `urn:hub:connector:odoo:${o.tenantId}`;
    this.models = o.models ?? CAPTURED_MODELS;
    this.pageSize = o.pageSize ?? 200;
    this.maxPages = o.maxPagesPerPoll ?? 50;
    this.intervalMs = o.intervalMs ?? 30_000;
    this.startAt = o.startAt ?? EPOCH_CURSOR.at;
    this.scheduler = o.scheduler ?? realScheduler;
    this.clock = o.clock ?? systemClock;
    this.onError = o.onError ?? (() => undefined);
    this.onPolled = o.onPolled ?? (() => undefined);
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(this.startAt)) throw new Error(`startAt must be YYYY-MM-DD HH:MM:SS, got ${this.startAt}`);
  }

  /** Polls every model once, each until it is drained or maxPagesPerPoll pages were read. */
  async pollOnce(): Promise<CaptureReport[]> {
    const out: CaptureReport[] = [];
    for (const m of this.models) out.push(await this.pollModel(m));
    return out;
  }

  /** Polls one model (pages until a short page or the page budget). */
  pollModel(model: CapturedModel): Promise<CaptureReport> {
    return this.serial(model, () => this.withPollLock(model, () => this.pollPages(model))).then((r) => {
      if (!r.skipped) this.onPolled(r);
      return r;
    });
  }

  /**
   * One poller per tenant and model across hub processes: a session advisory lock, held on a
   * connection of its own for the poll; a process that does not get it skips this round.
   */
  private async withPollLock(model: CapturedModel, fn: () => Promise<CaptureReport>): Promise<CaptureReport> {
    const lock = await this.pool.connect();
    const name = `odoo-capture:${this.tenantId}:${model}`;
    try {
      const got = await lock.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtextextended($1, 0)) as ok`, [name]);
      if (!got.rows[0]!.ok) {
        const cursor = (await loadCursor(this.pool, this.tenantId, model)) ?? { at: this.startAt, idsAtAt: [] };
        return { model, pages: 0, records: 0, events: 0, emitted: 0, duplicates: 0, mappingErrors: 0, cursor, skipped: 'locked' };
      }
      try {
        return await fn();
      } finally {
        await lock.query(`select pg_advisory_unlock(hashtextextended($1, 0))`, [name]);
      }
    } finally {
      lock.release();
    }
  }

  private async pollPages(model: CapturedModel): Promise<CaptureReport> {
    {
      let cursor = (await loadCursor(this.pool, this.tenantId, model)) ?? { at: this.startAt, idsAtAt: [] };
      const report: CaptureReport = { model, pages: 0, records: 0, events: 0, emitted: 0, duplicates: 0, mappingErrors: 0, cursor };
      await this.recheck(model, cursor, report);
      for (let page = 0; page < this.maxPages; page++) {
        const records = expectResult<OdooRecord[]>(
          await this.client.call(model, 'search_read', [cursorDomain(cursor)], { fields: await this.fields.select(model, ODOO_FIELDS[model]), order: 'write_date asc, id asc', limit: this.pageSize }),
          `${model}.search_read`,
        );
        if (!Array.isArray(records) || records.length === 0) break;
        const next = advanceCursor(cursor, records);
        if (sameCursor(next, cursor)) throw new Error(`${model}: the page did not move the cursor (${cursor.at}); records without write_date?`);
        const events = await this.eventsOf(model, records, report);
        const prev = cursor;
        const outcome = await this.commit(events, async (c) => {
          const stored = (await loadCursor(c, this.tenantId, model, true)) ?? { at: this.startAt, idsAtAt: [] };
          if (!sameCursor(stored, prev)) throw new CursorMoved(model);
          await saveCursor(c, this.tenantId, model, next);
        });
        cursor = next;
        report.pages++;
        report.records += records.length;
        report.events += events.length;
        report.emitted += outcome.emitted;
        report.duplicates += outcome.duplicates;
        if (records.length < this.pageSize) break;
      }
      report.cursor = cursor;
      return report;
    }
  }

  /**
   * Reads the records of the cursor's last second again: one written a second time within that
   * second (after the poll that passed it) is found here, as its data differs. Records already
   * written in a later second are left to the page query.
   */
  private async recheck(model: CapturedModel, cursor: CaptureCursor, report: CaptureReport): Promise<void> {
    if (!cursor.idsAtAt.length) return;
    const seen = this.rechecked.get(model);
    const count = seen?.at === cursor.at ? seen.count : 0;
    if (count >= RECHECKS) return;
    const records = (await this.read(model, cursor.idsAtAt, ODOO_FIELDS[model])).filter((r) => r['write_date'] === cursor.at);
    const events = records.length ? await this.eventsOf(model, records, report) : [];
    const outcome = events.length ? await this.commit(events, async () => undefined) : { emitted: 0, duplicates: 0 };
    report.rechecked = records.length;
    report.emitted += outcome.emitted;
    this.rechecked.set(model, { at: cursor.at, count: outcome.emitted ? 0 : count + 1 });
  }

  /**
   * A webhook notification: reads `ids` of `model` now and emits their events. The payload's
   * values are never used; the cursor is not moved.
   */
  hint(model: CapturedModel, ids: readonly number[]): Promise<CaptureReport> {
    return this.serial(model, async () => {
      const wanted = [...new Set(ids.filter((x) => Number.isSafeInteger(x) && x > 0))];
      const cursor = (await loadCursor(this.pool, this.tenantId, model)) ?? { at: this.startAt, idsAtAt: [] };
      const report: CaptureReport = { model, pages: 0, records: 0, events: 0, emitted: 0, duplicates: 0, mappingErrors: 0, cursor };
      if (!wanted.length) return report;
      const records = await this.read(model, wanted, ODOO_FIELDS[model]);
      if (!records.length) return report;
      const events = await this.eventsOf(model, records, report);
      const outcome = await this.commit(events, async () => undefined);
      report.pages = 1;
      report.records = records.length;
      report.events = events.length;
      report.emitted = outcome.emitted;
      report.duplicates = outcome.duplicates;
      return report;
    });
  }

  /**
   * An Odoo webhook body (`{_model, _id, id, ...}` or `{model, ids}`): a hint for that record.
   * Returns undefined when the payload names no captured model or no id.
   */
  hintPayload(payload: unknown): Promise<CaptureReport> | undefined {
    if (typeof payload !== 'object' || payload === null) return undefined;
    const p = payload as Record<string, unknown>;
    const model = (typeof p['_model'] === 'string' ? p['_model'] : p['model']) as string;
    if (!(this.models as readonly string[]).includes(model)) return undefined;
    const ids = Array.isArray(p['ids']) ? p['ids'] : [p['_id'] ?? p['id']];
    const valid = ids.filter((x): x is number => Number.isSafeInteger(x) && (x as number) > 0);
    return valid.length ? this.hint(model as CapturedModel, valid) : undefined;
  }

  /** Polls now and then every intervalMs until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      const p = this.pollOnce()
        .catch((e) => this.onError(e))
        .finally(() => {
          this.inFlight = undefined;
          if (this.running) this.schedule(this.intervalMs);
        });
      this.inFlight = p;
    }, ms);
  }

  private serial<T>(model: CapturedModel, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(model) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    this.locks.set(model, run);
    return run;
  }

  private async read(model: string, ids: readonly number[], fields: readonly string[]): Promise<OdooRecord[]> {
    const out: OdooRecord[] = [];
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      const chunk = ids.slice(i, i + READ_CHUNK);
      const r = expectResult<OdooRecord[]>(await this.client.call(model, 'read', [chunk], { fields: await this.fields.select(model, fields) }), `${model}.read`);
      if (Array.isArray(r)) out.push(...r);
    }
    return out;
  }

  private async relatedOf(model: CapturedModel, records: OdooRecord[]): Promise<RelatedRecords> {
    const related: Record<string, Map<number, OdooRecord>> = {};
    for (const step of RELATED_STEPS[model]) {
      const have = related[step.model] ?? new Map<number, OdooRecord>();
      const ids = [...new Set(step.ids(records, related))].filter((id) => !have.has(id));
      for (const r of await this.read(step.model, ids, RELATED_FIELDS[step.model])) have.set(r.id, r);
      related[step.model] = have;
    }
    return related;
  }

  private async eventsOf(model: CapturedModel, records: OdooRecord[], report: CaptureReport): Promise<IncomingEvent[]> {
    const related = await this.relatedOf(model, records);
    const out: IncomingEvent[] = [];
    for (const rec of records) {
      const version = odooDatetime(rec['write_date']) ?? this.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const r = mapRecord(model, rec, related);
      if (r.ok) {
        for (const e of r.events) out.push(this.incoming(model, rec.id, version, e));
      } else {
        report.mappingErrors++;
        out.push(this.incoming(model, rec.id, version, this.mappingException(model, rec.id, version, r.error)));
      }
    }
    return out;
  }

  private mappingException(model: CapturedModel, id: number, version: string, err: OdooMappingError): MappedEvent {
    const { entity, prefix } = ENTITY_OF[model];
    const data: EventData<'exception.raised.v1'> = {
      exceptionId: `exc-odoo-${model.replace(/\./g, '_')}-${id}-${version.replace(/[^0-9]/g, '')}`.slice(0, 128),
      class: 'mapping_error',
      severity: 'error',
      ownerQueue: 'integration',
      subject: { entity, id: `${prefix}-${id}` },
      raisedAt: version,
      message: err.message.slice(0, 2000),
      suggestedAction: { code: 'fix_mapping', description: 'Correct the record in Odoo (or the mapping) and let the next change carry it.' },
      details: { model, recordId: id, code: err.code, issues: err.issues.slice(0, 10).map((i) => `${i.path}: ${i.message}`).join('; ') },
    };
    return { type: 'exception.raised.v1', data, dedupe: { scope: 'once', key: `mapping_error:${version}` } };
  }

  private incoming(model: CapturedModel, recordId: number, version: string, e: MappedEvent): IncomingEvent {
    const type = e.type as EventType;
    const id = e.dedupe.scope === 'version' ? `odoo:${model}:${recordId}:${version}:${digest(e.data)}` : `odoo:${model}:${recordId}:${e.dedupe.key}`;
    const key = keyOf(type, e.data) ?? `odoo:${model}:${recordId}`;
    return {
      id,
      source: this.source,
      type,
      specversion: '1.0',
      subject: `${model}/${recordId}`,
      time: version,
      occurredAt: dataTimeOf(type, e.data) ?? version,
      datacontenttype: 'application/json',
      dataschema: dataschemaUrl(type),
      data: e.data,
      extensions: { tenant: this.tenantId },
      key,
      tenantId: this.tenantId,
    };
  }

  /** Ingests `events` and runs `alsoInTx` in one transaction. */
  private async commit(events: IncomingEvent[], alsoInTx: (c: pg.PoolClient) => Promise<void>): Promise<{ emitted: number; duplicates: number }> {
    const outcomes = await withTx(this.pool, async (c) => {
      await alsoInTx(c);
      return ingest(c, events);
    });
    const duplicates = outcomes.filter((o) => o.duplicate).length;
    return { emitted: outcomes.length - duplicates, duplicates };
  }
}

/** Another capture of the same tenant and model advanced the cursor meanwhile. */
export class CursorMoved extends Error {
  constructor(model: string) {
    super(`${model}: the stored cursor moved during the poll (another capture runs for this tenant); the page was not committed`);
    this.name = 'CursorMoved';
  }
}
