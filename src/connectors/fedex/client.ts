/**
 * The FedEx HTTP client: the only code of the connector that touches the network. It gets an
 * OAuth 2.0 client-credentials token from /oauth/token, caches it until shortly before it
 * expires (by the injected clock), renews it and retries once when the Track API answers 401,
 * puts a timeout on every request, splits tracking numbers into requests of at most `batchSize`
 * (FedEx: 30), and returns the parsed bodies as they came. Every failure leaves as a HubError
 * classified by ./errors.ts.
 */
import type { Clock } from '../../platform/clock.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';
import { fedexError, httpFailure, parseRetryAfter, transportFailure, type FedexEndpoint } from './errors.ts';

/** What the connector asks of FedEx; tests and other transports can implement it. */
export interface FedexTransport {
  /** POST /track/v1/trackingnumbers, one request per batch; the parsed bodies in batch order. */
  trackNumbers(trackingNumbers: readonly string[]): Promise<unknown[]>;
  /** POST /track/v1/associatedshipments (STANDARD_MPS) for a master tracking number; the parsed body. */
  trackAssociated(masterTrackingNumber: string): Promise<unknown>;
}

export interface FedexClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  batchSize: number;
  locale: string;
  tokenRefreshMarginSeconds: number;
  clock: Clock;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

interface CachedToken {
  value: string;
  /** epoch ms after which the token is not used any more (expiry minus the margin) */
  renewAt: number;
}

/** FedexTransport over HTTP: token cache, one retry on 401, timeouts, batches of `batchSize`. */
export class FedexClient implements FedexTransport {
  readonly #o: FedexClientOptions;
  readonly #base: string;
  #token: CachedToken | undefined;
  #pending: Promise<string> | undefined;

  constructor(o: FedexClientOptions) {
    this.#o = o;
    this.#base = o.baseUrl.replace(/\/+$/, '');
  }

  /** POST /track/v1/trackingnumbers in batches of `batchSize`; the parsed bodies in batch order. */
  async trackNumbers(trackingNumbers: readonly string[]): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (let i = 0; i < trackingNumbers.length; i += this.#o.batchSize) {
      const batch = trackingNumbers.slice(i, i + this.#o.batchSize);
      bodies.push(
        await this.#api('trackingnumbers', '/track/v1/trackingnumbers', {
          includeDetailedScans: true,
          trackingInfo: batch.map((trackingNumber) => ({ trackingNumberInfo: { trackingNumber } })),
        }),
      );
    }
    return bodies;
  }

  /** POST /track/v1/associatedshipments (STANDARD_MPS) for a master; the parsed body. */
  async trackAssociated(masterTrackingNumber: string): Promise<unknown> {
    return this.#api('associatedshipments', '/track/v1/associatedshipments', {
      includeDetailedScans: true,
      associatedType: 'STANDARD_MPS',
      masterTrackingNumberInfo: { trackingNumberInfo: { trackingNumber: masterTrackingNumber } },
    });
  }

  /** Drops the cached token (the next call gets a new one). */
  forgetToken(): void {
    this.#token = undefined;
  }

  async #api(endpoint: FedexEndpoint, path: string, payload: unknown): Promise<unknown> {
    const token = await this.#accessToken();
    const seen: { status?: number } = {};
    try {
      return await this.#post(endpoint, path, JSON.stringify(payload), { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-locale': this.#o.locale }, seen);
    } catch (e) {
      if (seen.status !== 401) throw e;
      // expired or revoked before our clock said so: one fresh token, one retry
      if (this.#token?.value === token) this.#token = undefined;
      const fresh = await this.#accessToken();
      return this.#post(endpoint, path, JSON.stringify(payload), { authorization: `Bearer ${fresh}`, 'content-type': 'application/json', 'x-locale': this.#o.locale });
    }
  }

  /** The cached token, or a new one; concurrent callers share one token request. */
  async #accessToken(): Promise<string> {
    const now = this.#o.clock.now().getTime();
    if (this.#token && now < this.#token.renewAt) return this.#token.value;
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.#o.clientId, client_secret: this.#o.clientSecret });
    const seen: { status?: number } = {};
    const body = (await this.#post('token', '/oauth/token', form.toString(), { 'content-type': 'application/x-www-form-urlencoded' }, seen)) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw fedexError({ source: 'body', endpoint: 'token', status: seen.status ?? 200, message: 'the token answer has no access_token' });
    }
    const ttlSeconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3599;
    const issued = this.#o.clock.now().getTime();
    this.#token = { value: body.access_token, renewAt: issued + Math.max(0, ttlSeconds - this.#o.tokenRefreshMarginSeconds) * 1000 };
    return body.access_token;
  }

  /** One POST and its parsed answer (the error table's HubError for a refusal); `seen.status` gets the HTTP status. */
  #post(endpoint: FedexEndpoint, path: string, body: string, headers: Record<string, string>, seen: { status?: number } = {}): Promise<unknown> {
    const op = { connector: 'fedex', operation: endpoint, transportError: (e: unknown) => fedexError(transportFailure(e, endpoint, this.#o.timeoutMs), e) };
    const init = { method: 'POST', headers: { accept: 'application/json', ...headers }, body, signal: AbortSignal.timeout(this.#o.timeoutMs) };
    return partnerFetch(this.#o.telemetry, op, this.#base + path, init, (res) => {
      seen.status = res.status;
      return this.#parse(endpoint, res);
    });
  }

  async #parse(endpoint: FedexEndpoint, res: Response): Promise<unknown> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw fedexError(transportFailure(e, endpoint, this.#o.timeoutMs), e);
    }
    if (!res.ok) {
      throw fedexError(httpFailure(res.status, text, endpoint, parseRetryAfter(res.headers.get('retry-after'), this.#o.clock.now().getTime())));
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw fedexError({ source: 'body', endpoint, status: res.status, notJson: true, message: `FedEx answered ${res.status} with a body that is not JSON: ${text.slice(0, 120)}` }, e);
    }
  }
}
