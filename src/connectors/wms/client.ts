/**
 * The WMS connector's HTTP client: the only code of the connector that touches the
 * network. It sends a WmsRequest (built from a profile by mappers.ts) to the WMS's base
 * URL with the API key, a timeout and JSON in both directions, and returns the parsed
 * answer; every failure is classified by the error table (errors.ts).
 */
import { wmsError, errorDetails } from './errors.ts';
import type { WmsRequest } from './mappers.ts';
import { parseRetryAfter } from '../error-table.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';

export interface WmsClientOptions {
  /** base URL, e.g. https://api.wms.example.com (paths of the profile are appended) */
  baseUrl: string;
  apiKey: string;
  /** header carrying the key, and whether it is sent as `Bearer <key>` */
  auth?: { header: string; scheme: 'plain' | 'bearer' };
  timeoutMs?: number;
  userAgent?: string;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

export interface WmsAnswer {
  status: number;
  headers: Record<string, string>;
  /** the parsed JSON body; undefined when the answer has none */
  json: unknown;
}

/** The narrow interface the connector uses: send one request, get JSON or a classified HubError. */
export interface WmsTransport {
  send(req: WmsRequest): Promise<WmsAnswer>;
}

/** Retry-After in milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: Date = new Date()): number | undefined {
  return parseRetryAfter(value, now);
}

export class WmsClient implements WmsTransport {
  readonly #base: string;
  readonly #key: string;
  readonly #auth: { header: string; scheme: 'plain' | 'bearer' };
  readonly #timeoutMs: number;
  readonly #ua: string;
  readonly #telemetry: HubTelemetry | undefined;

  constructor(o: WmsClientOptions) {
    if (!/^https?:\/\//.test(o.baseUrl)) throw new TypeError(`the WMS base URL must start with http:// or https:// (got ${JSON.stringify(o.baseUrl)})`);
    this.#base = o.baseUrl.replace(/\/+$/, '');
    this.#key = o.apiKey;
    this.#auth = o.auth ?? { header: 'X-Api-Key', scheme: 'plain' };
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    this.#ua = o.userAgent ?? 'odoo-logistics-hub (wms connector)';
    this.#telemetry = o.telemetry;
  }

  /** Sends the request; resolves with a 2xx answer, rejects with a HubError from the error table. */
  async send(req: WmsRequest): Promise<WmsAnswer> {
    const what = `${req.operation} ${req.method} ${req.path.split('?')[0]}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#ua,
      [this.#auth.header]: this.#auth.scheme === 'bearer' ? `Bearer ${this.#key}` : this.#key,
      ...req.headers,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const transportError = (e: unknown) => {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        return wmsError({ kind: 'timeout', message: `no answer within ${this.#timeoutMs} ms`, request: what }, e);
      }
      const code = err.cause?.code ?? (err as { code?: string }).code;
      // anything else before an answer: refused, reset, unresolvable host, TLS
      return wmsError({ kind: 'connection', ...(code ? { errno: code } : {}), message: `${code ?? 'connection failed'}: ${err.cause?.message ?? err.message}`, request: what }, e);
    };
    const op = { connector: 'wms', operation: req.operation, transportError };
    return partnerFetch(this.#telemetry, op, this.#base + req.path, { method: req.method, headers, body, signal: AbortSignal.timeout(this.#timeoutMs) }, async (res) => this.#answer(res, await res.text(), what));
  }

  #answer(res: Response, text: string, what: string): WmsAnswer {
    const resHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => (resHeaders[k] = v));
    let json: unknown = undefined;
    let parsed = true;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        parsed = false;
      }
    }
    if (res.status < 200 || res.status > 299) {
      const d = errorDetails(parsed ? json : undefined, text);
      const ra = retryAfterMs(res.headers.get('retry-after'));
      throw wmsError({ kind: 'http', status: res.status, message: d.message, ...(d.wmsCode ? { wmsCode: d.wmsCode } : {}), ...(ra !== undefined ? { retryAfterMs: ra } : {}), request: what });
    }
    if (!parsed) throw wmsError({ kind: 'protocol', status: res.status, message: `the answer is not JSON: ${text.slice(0, 200)}`, request: what });
    return { status: res.status, headers: resHeaders, json };
  }
}
