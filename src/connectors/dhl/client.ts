/**
 * The DHL connector's only network code: GET {baseUrl}/track/shipments with the DHL-API-Key
 * header, one tracking number per request (the Unified API's `trackingNumber` takes exactly
 * one number, so the documented batch maximum is 1), a per-request timeout, a bounded number
 * of requests in flight, and one re-read of the API key after a 401 (the key was rotated in
 * the secret store: the new one is tried once). Answers are returned as parsed bodies; every
 * failure leaves as a HubError from the error table (./errors.ts).
 */
import type { HubError } from '../../domain/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import { systemClock } from '../../platform/clock.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';
import { dhlError, httpFailure, parseRetryAfter, transportFailure } from './errors.ts';

/** Tracking numbers per request the Unified API accepts (one `trackingNumber` parameter). */
export const DHL_MAX_NUMBERS_PER_REQUEST = 1;

export interface DhlClientOptions {
  baseUrl: string;
  /** the key, or a function reading it from the secret store (called again after a 401) */
  apiKey: string | (() => string | Promise<string>);
  timeoutMs: number;
  concurrency: number;
  service?: string | undefined;
  language?: string | undefined;
  requesterCountryCode?: string | undefined;
  clock?: Clock;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

/** The answer for one tracking number: the parsed 200 body, or DHL's 404 "No result found". */
export type DhlLookup = { trackingNumber: string; found: true; body: unknown } | { trackingNumber: string; found: false; body: unknown };

export interface DhlTrackingClient {
  /** One lookup per number, in the order given. */
  track(trackingNumbers: string[]): Promise<DhlLookup[]>;
}

/** Creates the client. */
export function createDhlClient(o: DhlClientOptions): DhlTrackingClient {
  const clock = o.clock ?? systemClock;
  const base = o.baseUrl.replace(/\/+$/, '');
  let key: string | undefined = typeof o.apiKey === 'string' ? o.apiKey : undefined;
  const readKey = async (): Promise<string> => (typeof o.apiKey === 'string' ? o.apiKey : await o.apiKey());

  /** One GET, its answer interpreted: a lookup, or the error table's HubError. */
  function get(url: string, apiKey: string, trackingNumber: string, seen: { status?: number }): Promise<DhlLookup> {
    const op = { connector: 'dhl', operation: 'track', transportError: (e: unknown) => dhlError(transportFailure(e, o.timeoutMs), e) };
    return partnerFetch(o.telemetry, op, url, { headers: { 'DHL-API-Key': apiKey, Accept: 'application/json' }, signal: AbortSignal.timeout(o.timeoutMs) }, async (res) => {
      seen.status = res.status;
      const text = await res.text();
      if (res.status === 200) {
        try {
          const body = JSON.parse(text) as unknown;
          if (!body || typeof body !== 'object' || !Array.isArray((body as { shipments?: unknown }).shipments)) throw new Error('no shipments list');
          return { trackingNumber, found: true, body };
        } catch (e) {
          throw dhlError({ source: 'protocol', status: 200, message: `DHL sent a body that is not the documented JSON: ${text.slice(0, 120)}` }, e);
        }
      }
      const f = httpFailure(res.status, text, parseRetryAfter(res.headers.get('retry-after'), clock.now().getTime()));
      if (res.status === 404 && f.title !== undefined) {
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // title came from JSON, so this does not happen
        }
        return { trackingNumber, found: false, body };
      }
      throw dhlError(f);
    });
  }

  async function lookup(trackingNumber: string): Promise<DhlLookup> {
    if (!trackingNumber.trim()) throw dhlError({ source: 'client', message: 'empty tracking number' });
    const q = new URLSearchParams({ trackingNumber });
    if (o.service) q.set('service', o.service);
    if (o.language) q.set('language', o.language);
    if (o.requesterCountryCode) q.set('requesterCountryCode', o.requesterCountryCode);
    const url = `${base}/track/shipments?${q}`;
    key ??= await readKey();
    const seen: { status?: number } = {};
    try {
      return await get(url, key, trackingNumber, seen);
    } catch (e) {
      // a 401 with a key read from the secret store: the key may have been rotated, the new one is tried once
      if (seen.status !== 401 || typeof o.apiKey === 'string') throw e;
      const fresh = await readKey();
      if (fresh === key) throw e;
      key = fresh;
      return get(url, key, trackingNumber, {});
    }
  }

  return {
    async track(trackingNumbers: string[]): Promise<DhlLookup[]> {
      const out: DhlLookup[] = new Array(trackingNumbers.length);
      let next = 0;
      let failed: HubError | undefined;
      const worker = async () => {
        while (failed === undefined && next < trackingNumbers.length) {
          const i = next++;
          try {
            out[i] = await lookup(trackingNumbers[i]!);
          } catch (e) {
            failed ??= e as HubError;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, trackingNumbers.length) }, worker));
      if (failed) throw failed;
      return out;
    },
  };
}
