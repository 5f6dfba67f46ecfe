/**
 * Receipts of partner webhooks (hub_webhook_receipts): the raw body is stored, and
 * committed, before the partner gets its 2xx; only then is it mapped to canonical events.
 *
 * (tenant, partner, webhook id) is unique, so a delivery received twice is recognised by
 * the constraint, also when both copies arrive at once. What a repeat means depends on
 * what differs: another body under a used id is an id reused; the same body with the same
 * signed timestamp is a byte-for-byte replay (senders sign every retry afresh); the same
 * body with a new timestamp is a sender's retry whose first answer was lost.
 *
 * Status: `stored` (kept, not yet mapped), then `mapped` (events = how many the body
 * held; the inbox de-duplicates by tenant, source and id, so mapping again is harmless)
 * or `unmapped` (error says why; a business exception keyed `webhook:<partner>:<id>` is
 * raised in the same statement). `mapped_at` is when the mapping ran, either way. A
 * failure that may pass (the database) leaves the receipt `stored`: mapStoredReceipts,
 * run at start and periodically, maps what a crash or an outage left behind.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { HubError, PermanentError, type FieldIssue } from '../domain/errors.ts';
import type { HubConfig } from '../platform/config.ts';
import type { Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { bodyDigest } from '../security/webhook-signature.ts';
import { ingest as ingestInbox, type IngestOutcome } from './inbox.ts';
import type { IncomingEvent } from './types.ts';
import { getWebhookMapper, type WebhookDelivery } from './webhook-mappers.ts';

export type ReceiptStatus = 'stored' | 'mapped' | 'unmapped';

export interface Receipt {
  id: number;
  tenantId: string;
  partner: string;
  webhookId: string;
  /** the signed timestamp (webhook-timestamp), when the scheme has one */
  signedAt: Date | null;
  receivedAt: Date;
  contentType: string;
  bodySha256: Buffer;
  status: ReceiptStatus;
  events: number;
  error: string | null;
  mappedAt: Date | null;
}

const COLUMNS = `id, tenant_id, partner, webhook_id, signed_at, received_at, content_type, body_sha256, status, events, error, mapped_at`;

function rowToReceipt(r: Record<string, unknown>): Receipt {
  return {
    id: r.id as number,
    tenantId: r.tenant_id as string,
    partner: r.partner as string,
    webhookId: r.webhook_id as string,
    signedAt: (r.signed_at as Date | null) ?? null,
    receivedAt: r.received_at as Date,
    contentType: r.content_type as string,
    bodySha256: r.body_sha256 as Buffer,
    status: r.status as ReceiptStatus,
    events: r.events as number,
    error: (r.error as string | null) ?? null,
    mappedAt: (r.mapped_at as Date | null) ?? null,
  };
}

export interface NewReceipt {
  tenantId: string;
  partner: string;
  webhookId: string;
  signedAt: Date | null;
  contentType: string;
  body: Buffer;
}

export type StoreOutcome = { stored: true; receipt: Receipt } | { stored: false; existing: Receipt };

export async function findReceipt(db: Queryable, tenantId: string, partner: string, webhookId: string): Promise<Receipt | undefined> {
  const r = await db.query(`select ${COLUMNS} from hub_webhook_receipts where tenant_id = $1 and partner = $2 and webhook_id = $3`, [tenantId, partner, webhookId]);
  return r.rows[0] ? rowToReceipt(r.rows[0]) : undefined;
}

/**
 * Stores a delivery (one statement: committed when it returns), or reports the receipt
 * already holding its id. A concurrent insert of the same id waits for the other to
 * commit and then sees it.
 */
export async function storeReceipt(db: Queryable, n: NewReceipt): Promise<StoreOutcome> {
  for (let attempt = 0; ; attempt++) {
    const r = await db.query(
      `insert into hub_webhook_receipts (tenant_id, partner, webhook_id, signed_at, content_type, body_sha256, body)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tenant_id, partner, webhook_id) do nothing
       returning ${COLUMNS}`,
      [n.tenantId, n.partner, n.webhookId, n.signedAt, n.contentType, bodyDigest(n.body), n.body],
    );
    if (r.rows[0]) return { stored: true, receipt: rowToReceipt(r.rows[0]) };
    const existing = await findReceipt(db, n.tenantId, n.partner, n.webhookId);
    if (existing) return { stored: false, existing };
    // the conflicting row was deleted in between (retention): try once more
    if (attempt > 0) throw new Error(`webhook receipt ${n.partner}/${n.webhookId} neither stored nor found`);
  }
}

export type Repeat = 'id_reused' | 'replayed' | 'duplicate';

/**
 * What a second delivery under a stored id is. `signedAt` is null when the partner's
 * scheme signs no timestamp: then the same body is always a retry.
 */
export function classifyRepeat(existing: Pick<Receipt, 'bodySha256' | 'signedAt'>, body: Buffer, signedAt: Date | null): Repeat {
  if (!bodyDigest(body).equals(existing.bodySha256)) return 'id_reused';
  if (signedAt !== null && existing.signedAt !== null && Math.floor(signedAt.getTime() / 1000) === Math.floor(existing.signedAt.getTime() / 1000)) return 'replayed';
  return 'duplicate';
}

// ----------------------------------------------------------------------------- mapping

export interface ReceiptDeps {
  pool: pg.Pool;
  log: Logger;
  config: Pick<HubConfig, 'webhooks' | 'ingress'>;
  /** stores events durably (the hub's group committer); default: one transaction per call */
  ingest?: ((events: IncomingEvent[]) => Promise<IngestOutcome[]>) | undefined;
}

export type MapOutcome =
  | { status: 'mapped'; events: number }
  | { status: 'unmapped'; code: string; error: string }
  /** a failure that may pass: left for mapStoredReceipts */
  | { status: 'stored'; error: string };

/** PostgreSQL refused the data itself (data exception, integrity violation): trying again cannot help. */
function refusedData(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

async function markMapped(db: Queryable, id: number, events: number): Promise<void> {
  await db.query(`update hub_webhook_receipts set status = 'mapped', events = $2, error = null, mapped_at = now() where id = $1 and status = 'stored'`, [id, events]);
}

/** Marks the receipt unmapped and raises its business exception, in one statement. */
async function markUnmapped(db: Queryable, d: WebhookDelivery, code: string, error: string, issues: FieldIssue[]): Promise<void> {
  const details = { receiptId: d.receiptId, partner: d.partner, webhookId: d.webhookId, errorCode: code, issues: issues.slice(0, 50) };
  await db.query(
    `with u as (
       update hub_webhook_receipts set status = 'unmapped', error = $2, mapped_at = now()
        where id = $1 and status = 'stored'
        returning tenant_id, partner, webhook_id
     )
     insert into hub_exceptions (tenant_id, key, code, severity, message, details)
     select tenant_id, 'webhook:' || partner || ':' || webhook_id, 'webhook.unmapped', 'error', $3, $4::jsonb from u`,
    [d.receiptId, `${code}: ${error}`.slice(0, 2000), `webhook ${d.webhookId} from ${d.partner} could not be mapped: ${error}`.slice(0, 2000), JSON.stringify(details)],
  );
}

/**
 * Maps a stored delivery with the named mapper and stores its events. A delivery that
 * cannot be mapped becomes `unmapped` with a business exception; a failure that may pass
 * leaves it `stored`. Never throws for the delivery's content; throws only when even the
 * outcome cannot be recorded.
 */
export async function mapReceipt(deps: ReceiptDeps, d: WebhookDelivery, mapperName: string): Promise<MapOutcome> {
  const log = deps.log.child({ partner: d.partner, webhookId: d.webhookId, receiptId: d.receiptId });
  const mapper = getWebhookMapper(mapperName);
  let events: IncomingEvent[];
  try {
    if (!mapper) throw new PermanentError({ code: 'webhook.unknown_mapper', message: `no webhook mapper is named ${JSON.stringify(mapperName)}` });
    events = await mapper.map(d, { maxBatch: deps.config.ingress.maxBatch });
    // each event names the delivery it came from, so the console can show the raw body beside it
    for (const e of events) e.extensions.hubreceipt = String(d.receiptId);
  } catch (e) {
    if (e instanceof HubError && e.errorClass === 'transient') {
      log.warn({ err: e }, 'webhook mapping failed for now; the receipt stays stored');
      return { status: 'stored', error: e.message };
    }
    const code = e instanceof HubError ? e.code : 'webhook.mapper_failed';
    const message = e instanceof HubError ? e.message : `the mapper ${mapperName} failed: ${(e as Error)?.message ?? String(e)}`;
    await markUnmapped(deps.pool, d, code, message, e instanceof HubError ? e.issues : []);
    log.warn({ errorCode: code }, 'webhook stored but not mapped: business exception raised');
    return { status: 'unmapped', code, error: message };
  }
  let outcomes: IngestOutcome[];
  try {
    outcomes = await (deps.ingest ? deps.ingest(events) : ingestInbox(deps.pool, events));
  } catch (e) {
    if (refusedData(e)) {
      const message = `the events could not be stored: ${(e as Error).message}`;
      await markUnmapped(deps.pool, d, 'webhook.unstorable', message, []);
      log.warn({ err: e }, 'webhook events refused by the database: business exception raised');
      return { status: 'unmapped', code: 'webhook.unstorable', error: message };
    }
    log.warn({ err: e }, 'webhook events not stored for now; the receipt stays stored');
    return { status: 'stored', error: (e as Error)?.message ?? String(e) };
  }
  await markMapped(deps.pool, d.receiptId, outcomes.length);
  log.debug({ events: outcomes.length, duplicates: outcomes.filter((o) => o.duplicate).length }, 'webhook mapped');
  return { status: 'mapped', events: outcomes.length };
}

export interface SweepResult {
  mapped: number;
  unmapped: number;
  /** still stored (a failure that may pass) */
  stored: number;
}

/**
 * Maps receipts left `stored` (a crash between the commit and the mapping, an outage)
 * that were received more than `graceSeconds` ago (younger ones are still being mapped
 * by their request). Mapping twice is harmless: the inbox de-duplicates and the status
 * changes only from `stored`.
 */
export async function mapStoredReceipts(deps: ReceiptDeps, o: { graceSeconds?: number; batch?: number } = {}): Promise<SweepResult> {
  const grace = o.graceSeconds ?? 60;
  const batch = o.batch ?? 100;
  const result: SweepResult = { mapped: 0, unmapped: 0, stored: 0 };
  let after = 0;
  for (;;) {
    const r = await deps.pool.query<{ id: number; tenant_id: string; partner: string; webhook_id: string; content_type: string; body: Buffer | null }>(
      `select id, tenant_id, partner, webhook_id, content_type, body from hub_webhook_receipts
        where status = 'stored' and received_at < now() - $1 * interval '1 second' and id > $2
        order by id limit $3`,
      [grace, after, batch],
    );
    for (const row of r.rows) {
      after = row.id;
      const d: WebhookDelivery = {
        receiptId: row.id,
        partner: row.partner,
        tenantId: row.tenant_id,
        webhookId: row.webhook_id,
        contentType: row.content_type,
        body: row.body ?? Buffer.alloc(0),
        correlationId: randomUUID(),
      };
      const partner = Object.hasOwn(deps.config.webhooks.partners, row.partner) ? deps.config.webhooks.partners[row.partner] : undefined;
      let outcome: MapOutcome;
      if (!partner) {
        const error = `the partner ${row.partner} is no longer configured`;
        await markUnmapped(deps.pool, d, 'webhook.unknown_partner', error, []);
        outcome = { status: 'unmapped', code: 'webhook.unknown_partner', error };
      } else if (row.body === null) {
        const error = 'the body is no longer stored';
        await markUnmapped(deps.pool, d, 'webhook.body_removed', error, []);
        outcome = { status: 'unmapped', code: 'webhook.body_removed', error };
      } else {
        outcome = await mapReceipt(deps, d, partner.mapper);
      }
      result[outcome.status]++;
    }
    if (r.rows.length < batch) break;
  }
  if (result.mapped || result.unmapped || result.stored) deps.log.info(result, 'stored webhook receipts mapped');
  return result;
}

/** Runs mapStoredReceipts at start and then every `intervalMs`. */
export class StoredReceiptSweeper {
  readonly #deps: ReceiptDeps;
  readonly #intervalMs: number;
  readonly #graceSeconds: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(deps: ReceiptDeps, o: { intervalMs?: number; graceSeconds?: number } = {}) {
    this.#deps = deps;
    this.#intervalMs = o.intervalMs ?? 60_000;
    this.#graceSeconds = o.graceSeconds ?? 60;
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.#running = mapStoredReceipts(this.#deps, { graceSeconds: this.#graceSeconds })
        .catch((err: unknown) => this.#deps.log.warn({ err }, 'mapping stored webhook receipts failed; trying again later'))
        .finally(() => {
          this.#running = undefined;
          if (this.#stopped) return;
          this.#timer = setTimeout(tick, this.#intervalMs);
          this.#timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
