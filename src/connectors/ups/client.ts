/**
 * The UPS client: the only code of the UPS connector that touches the network.
 *
 * - OAuth2 client credentials: POST {baseUrl}/security/v1/oauth/token with HTTP Basic
 *   client_id:client_secret and `grant_type=client_credentials` (optional x-merchant-id). The
 *   token is cached until a minute before `expires_in` (by the injected clock); concurrent calls
 *   share one token request. A 401 from the Track API drops the token, fetches a new one and
 *   repeats the call once; a second 401 is `ups.unauthorized`.
 * - Track API v1: GET {baseUrl}/api/track/v1/details/{inquiryNumber} with the required transId
 *   (unique per request, at most 32 characters) and transactionSrc headers. The documented
 *   maximum is one inquiry number per request, so `track(numbers)` makes one request per number,
 *   `concurrency` at a time.
 * - Each HTTP request has its own AbortSignal.timeout(timeoutMs).
 *
 * Returns the parsed bodies as UPS sent them; the pure mappers read them. Failures are thrown as
 * the HubErrors of the error table (errors.ts).
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../platform/clock.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';
import { httpFailure, parseRetryAfter, transportFailure, upsError, upsErrorOf, type UpsEndpoint } from './errors.ts';

/** The Track API's documented maximum of inquiry numbers per request. */
export const UPS_MAX_NUMBERS_PER_REQUEST = 1;

/** Tracking numbers UPS accepts: 7 to 34 characters (documented), letters and digits. */
export const INQUIRY_NUMBER = /^[0-9A-Za-z]{7,34}$/;

export interface UpsClientOptions {
  baseUrl: string;
  clientId: string;
  /** the client secret, or a function reading it from the secret store (read again for every new token) */
  clientSecret: string | (() => string | Promise<string>);
  merchantId?: string;
  transactionSrc: string;
  locale: string;
  timeoutMs: number;
  concurrency: number;
  clock?: Clock;
  fetch?: typeof fetch;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

/** What UPS answered for one inquiry number: a 200 body, or the body of a documented 404. */
export interface UpsLookup {
  inquiryNumber: string;
  status: 200 | 404;
  body: unknown;
}

export interface UpsClient {
  track(inquiryNumbers: string[]): Promise<UpsLookup[]>;
  /** the current access token (fetched when there is none or it is about to expire) */
  token(): Promise<string>;
  /** forgets the cached token */
  dropToken(): void;
}

interface CachedToken {
  value: string;
  /** ms by the clock after which a new token is fetched */
  refreshAt: number;
}

export function createUpsClient(o: UpsClientOptions): UpsClient {
  const clock = o.clock ?? systemClock;
  const base = o.baseUrl.replace(/\/+$/, '');
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  /** One exchange; `read` gets the status and the body and throws the error table's HubError for a refusal. */
  function send<T>(endpoint: UpsEndpoint, url: string, init: RequestInit, read: (r: { status: number; text: string; headers: Headers }) => T): Promise<T> {
    const op = { connector: 'ups', operation: endpoint, fetch: o.fetch, transportError: (err: unknown) => upsError(transportFailure(endpoint, err, o.timeoutMs), err) };
    return partnerFetch(o.telemetry, op, url, { ...init, signal: AbortSignal.timeout(o.timeoutMs) }, async (res) => read({ status: res.status, text: await res.text(), headers: res.headers }));
  }

  async function fetchToken(): Promise<CachedToken> {
    const secret = typeof o.clientSecret === 'function' ? await o.clientSecret() : o.clientSecret;
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${o.clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (o.merchantId) headers['x-merchant-id'] = o.merchantId;
    const issuedAt = clock.now().getTime();
    const body = await send('token', `${base}/security/v1/oauth/token`, { method: 'POST', headers, body: 'grant_type=client_credentials' }, (r) => {
      if (r.status !== 200) throw upsError(httpFailure('token', r.status, r.text, parseRetryAfter(r.headers.get('retry-after'), clock.now().getTime())));
      let body: { access_token?: unknown; expires_in?: unknown };
      try {
        body = JSON.parse(r.text) as typeof body;
      } catch (err) {
        throw upsError({ source: 'protocol', endpoint: 'token', status: r.status, message: 'the UPS token answer is not JSON' }, err);
      }
      if (typeof body?.access_token !== 'string' || !body.access_token) throw upsError({ source: 'protocol', endpoint: 'token', status: r.status, message: 'the UPS token answer has no access_token' });
      return body as { access_token: string; expires_in?: unknown };
    });
    const ttlSec = Number(body.expires_in);
    const ttlMs = Number.isFinite(ttlSec) && ttlSec > 0 ? ttlSec * 1000 : 60_000;
    // refresh a minute early (half the lifetime for short-lived tokens)
    return { value: body.access_token, refreshAt: issuedAt + Math.max(ttlMs - 60_000, ttlMs / 2) };
  }

  async function token(): Promise<string> {
    if (cached && clock.now().getTime() < cached.refreshAt) return cached.value;
    if (!inFlight) {
      inFlight = fetchToken().finally(() => {
        inFlight = undefined;
      });
      inFlight.then(
        (t) => {
          cached = t;
        },
        () => undefined,
      );
    }
    return (await inFlight).value;
  }

  async function trackOne(n: string): Promise<UpsLookup> {
    const q = new URLSearchParams({ locale: o.locale, returnSignature: 'false', returnMilestones: 'false', returnPOD: 'false' });
    const url = `${base}/api/track/v1/details/${encodeURIComponent(n)}?${q}`;
    for (let attempt = 1; ; attempt++) {
      const t = await token();
      let status: number | undefined;
      try {
        return await send('track', url, {
          method: 'GET',
          headers: { authorization: `Bearer ${t}`, transId: randomUUID().replaceAll('-', ''), transactionSrc: o.transactionSrc, accept: 'application/json' },
        }, (r): UpsLookup => {
          status = r.status;
          if (r.status === 200 || r.status === 404) {
            let body: unknown;
            try {
              body = JSON.parse(r.text);
            } catch (err) {
              if (r.status === 404) throw upsError(httpFailure('track', 404, r.text));
              throw upsError({ source: 'protocol', endpoint: 'track', status: 200, message: `the UPS answer for ${n} is not JSON` }, err);
            }
            if (r.status === 404) {
              // the documented "Tracking number information not found" (a UPS error body); anything else is a wrong URL
              if (!upsErrorOf(body)) throw upsError(httpFailure('track', 404, r.text));
              return { inquiryNumber: n, status: 404, body };
            }
            const shipments = (body as { trackResponse?: { shipment?: unknown } } | null)?.trackResponse?.shipment;
            if (!Array.isArray(shipments)) throw upsError({ source: 'protocol', endpoint: 'track', status: 200, message: `the UPS answer for ${n} has no trackResponse.shipment list` });
            return { inquiryNumber: n, status: 200, body };
          }
          throw upsError(httpFailure('track', r.status, r.text, parseRetryAfter(r.headers.get('retry-after'), clock.now().getTime())));
        });
      } catch (err) {
        // the first 401: the token expired or was revoked early; one new token, one more try
        if (status !== 401 || attempt !== 1) throw err;
        if (cached?.value === t) cached = undefined;
      }
    }
  }

  return {
    token,
    dropToken() {
      cached = undefined;
    },
    async track(inquiryNumbers: string[]): Promise<UpsLookup[]> {
      const bad = inquiryNumbers.find((n) => typeof n !== 'string' || !INQUIRY_NUMBER.test(n));
      if (bad !== undefined) {
        throw upsError({ source: 'client', endpoint: 'track', message: `${JSON.stringify(bad)} is not a UPS inquiry number (7 to 34 letters and digits)` });
      }
      const out = new Array<UpsLookup>(inquiryNumbers.length);
      let next = 0;
      let failed: unknown;
      const worker = async () => {
        while (failed === undefined && next < inquiryNumbers.length) {
          const i = next++;
          try {
            out[i] = await trackOne(inquiryNumbers[i]!);
          } catch (e) {
            failed ??= e;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(Math.max(1, o.concurrency), inquiryNumbers.length) }, worker));
      if (failed !== undefined) throw failed;
      return out;
    },
  };
}
