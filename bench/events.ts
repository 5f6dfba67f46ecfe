/**
 * The events the benchmarks send: test/helpers/load.ts faultEvent (a valid
 * stock.moved.v1 CloudEvent of the catalogue), with a benchmark source and an id unique
 * per run. Bodies are built from a pre-serialised template, so the load generator spends
 * its CPU on sending, not on JSON.stringify.
 */
import { faultEvent } from '../test/helpers/load.ts';
import type { IncomingEvent } from '../src/pipeline/types.ts';

export const BENCH_SOURCE = 'urn:bench';

/** Key of event n: spread over `keys` distinct business keys. */
export const keyOf = (n: number, keys: number) => `bk-${n % keys}`;

export function benchEvent(prefix: string, n: number, keys: number): Record<string, unknown> {
  return { ...faultEvent(keyOf(n, keys), n), id: `${prefix}-${n}`, source: BENCH_SOURCE };
}

/** A fast serialiser: JSON of event n, identical to JSON.stringify(benchEvent(prefix, n, keys)). */
export function eventSerializer(prefix: string, keys: number): (n: number) => string {
  const ID = '@@bench-ID@@';
  const KEY = '@@bench-KEY@@';
  const TIME = '@@bench-TIME@@';
  const tpl = JSON.stringify({ ...faultEvent('x', 0), id: ID, source: BENCH_SOURCE, partitionkey: KEY, time: TIME });
  const parts = tpl.split(/(@@bench-(?:ID|KEY|TIME)@@)/);
  if (parts.length !== 7) throw new Error('the event template has unexpected placeholders');
  return (n: number) => {
    let s = '';
    for (const p of parts) {
      if (p === ID) s += `${prefix}-${n}`;
      else if (p === KEY) s += keyOf(n, keys);
      else if (p === TIME) s += new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
      else s += p;
    }
    return s;
  };
}

/** The same event as ingest() receives it (what the HTTP layer would make of it). */
export function incomingEvent(prefix: string, n: number, keys: number): IncomingEvent {
  const e = faultEvent(keyOf(n, keys), n);
  return {
    id: `${prefix}-${n}`,
    source: BENCH_SOURCE,
    type: e.type,
    specversion: e.specversion,
    time: e.time,
    datacontenttype: e.datacontenttype,
    data: e.data,
    extensions: { partitionkey: e.partitionkey },
    key: e.partitionkey,
    tenantId: 'default',
  };
}
