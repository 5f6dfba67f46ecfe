/** Load helpers for fault tests: events, batch posting, waiting on a condition. */
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';

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

export async function postBatch(url: string, events: unknown[]): Promise<number> {
  const r = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
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
