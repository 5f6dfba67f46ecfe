/**
 * The EasyPost connector's HTTP client: the only code of the connector that touches the
 * network. JSON over HTTPS to `<baseUrl>/v2/...`, HTTP Basic authentication with the API key as
 * user name and an empty password, as EasyPost documents. Every failure (socket, timeout,
 * non-2xx answer, unreadable body) leaves as a HubError built by errors.ts. Label and SCAN form
 * files are downloaded from the URLs EasyPost returns, without the API key (they are public
 * file URLs on another host).
 */
import { HubError } from '../../domain/errors.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';
import { easyPostError, parseRetryAfter, type EasyPostFailure } from './errors.ts';

export interface EasyPostClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  /** for Retry-After dates */
  now?: () => Date;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

export interface DownloadedFile {
  body: Buffer;
  contentType: string;
}

/** The narrow interface the adapter uses. */
export interface EasyPostClient {
  get(path: string, query?: Record<string, string>): Promise<Record<string, unknown>>;
  post(path: string, body: unknown): Promise<Record<string, unknown>>;
  download(url: string): Promise<DownloadedFile>;
}

function errnoOf(e: unknown): string | undefined {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return e.name;
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    if (e.cause !== undefined) return errnoOf(e.cause);
  }
  return undefined;
}

function transport(e: unknown, what: string): HubError {
  const errno = errnoOf(e) ?? 'EUNKNOWN';
  const msg = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
  return easyPostError({ source: 'transport', errno, message: `${what}: ${msg}` }, e);
}

/** Field errors of an EasyPost error body: objects `{ field, message }` or plain strings. */
function fieldErrors(v: unknown): { field?: string; message: string }[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x) => {
    if (typeof x === 'string') return [{ message: x }];
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      const message = typeof o.message === 'string' ? o.message : JSON.stringify(x);
      return [typeof o.field === 'string' ? { field: o.field, message } : { message }];
    }
    return [];
  });
}

/** The facts of a non-2xx answer. */
export function httpFailure(status: number, text: string, retryAfterMs: number | undefined): EasyPostFailure {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const err = parsed && typeof parsed === 'object' ? (parsed as { error?: unknown }).error : undefined;
  const f: EasyPostFailure = { source: 'http', status, message: `HTTP ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ').trim() || '(empty body)'}` };
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    if (typeof e.code === 'string') f.code = e.code;
    if (typeof e.message === 'string') f.message = e.message;
    const fe = fieldErrors(e.errors);
    if (fe.length) f.fieldErrors = fe;
  }
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

/** The metric label of a request: the path without its query, object ids as `:id` (`POST /v2/shipments/:id/buy`). */
export function easyPostOperation(method: string, path: string): string {
  const p = path.split('?')[0]!.split('/').map((seg) => (/^[a-z]+_[A-Za-z0-9]+$/.test(seg) || /^\d+$/.test(seg) ? ':id' : seg));
  return `${method} ${p.join('/')}`;
}

export function createEasyPostClient(o: EasyPostClientOptions): EasyPostClient {
  const base = o.baseUrl.replace(/\/+$/, '');
  const auth = 'Basic ' + Buffer.from(`${o.apiKey}:`, 'utf8').toString('base64');
  const timeoutMs = o.timeoutMs ?? 30_000;
  const now = o.now ?? (() => new Date());

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const what = `${method} ${path}`;
    const init: RequestInit = {
      method,
      headers: {
        authorization: auth,
        accept: 'application/json',
        'user-agent': 'odoo-logistics-hub easypost-connector',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    };
    const op = { connector: 'easypost', operation: easyPostOperation(method, path), transportError: (e: unknown) => transport(e, what) };
    return partnerFetch(o.telemetry, op, base + path, init, async (res) => {
      const text = await res.text();
      if (res.status < 200 || res.status > 299) {
        throw easyPostError(httpFailure(res.status, text, parseRetryAfter(res.headers.get('retry-after'), now())));
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw easyPostError({ source: 'protocol', status: res.status, message: `${what}: the answer is not JSON (${text.slice(0, 80)})` }, e);
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw easyPostError({ source: 'protocol', status: res.status, message: `${what}: the answer is not a JSON object` });
      }
      return value as Record<string, unknown>;
    });
  }

  return {
    get(path, query) {
      const qs = query && Object.keys(query).length ? '?' + new URLSearchParams(query).toString() : '';
      return call('GET', path + qs);
    },
    post(path, body) {
      return call('POST', path, body);
    },
    async download(url) {
      const op = { connector: 'easypost', operation: 'GET file', transportError: (e: unknown) => transport(e, `GET ${url}`) };
      return partnerFetch(o.telemetry, op, url, { signal: AbortSignal.timeout(timeoutMs) }, async (res) => {
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status < 200 || res.status > 299) {
          throw easyPostError(httpFailure(res.status, body.toString('utf8'), parseRetryAfter(res.headers.get('retry-after'), now())));
        }
        return { body, contentType: res.headers.get('content-type') ?? 'application/octet-stream' };
      });
    },
  };
}
