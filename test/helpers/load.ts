/** Load helpers for fault tests: events, batch posting, waiting on a condition. */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { SCOPES } from '../../src/domain/scopes.ts';
import { createClient } from '../../src/security/clients.ts';

const TYPE = 'stock.moved.v1';

export interface FaultEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  partitionkey: string;
  datacontenttype: 'application/json';
  data: unknown;
}

/** Event n of key `key`; id is `<key>-<n>` so tests can read n back. */
export function faultEvent(key: string, n: number): FaultEvent {
  return {
    specversion: '1.0',
    id: `${key}-${n}`,
    source: 'urn:fault-test',
    type: TYPE,
    time: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    partitionkey: key,
    datacontenttype: 'application/json',
    data: EXAMPLE_EVENT_DATA[TYPE],
  };
}

/** A client token with every scope in tenant default, for load against a hub on `pool`'s database. */
export async function loadToken(pool: pg.Pool): Promise<string> {
  const { token } = await createClient(pool, { tenantId: 'default', name: `load-${randomUUID().slice(0, 8)}`, scopes: [...SCOPES], actor: 'test' });
  return token;
}

export async function postBatch(url: string, events: unknown[], token: string): Promise<number> {
  const r = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(15_000),
  });
  await r.arrayBuffer();
  return r.status;
}

/** Polls `cond` until it is true; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await cond()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
