/**
 * The console's only door to the hub: same-origin fetches with the session cookie, the CSRF
 * token on every change, and RFC 9457 problems turned into errors that say what went wrong.
 */

export interface Session {
  user: { id: string; username: string; displayName: string; tenant: string; scopes: string[] };
  csrfToken: string;
  expiresAt: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  constructor(status: number, code: string, detail: string) {
    super(`${detail} (${code})`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

let session: Session | null = null;
const listeners = new Set<(s: Session | null) => void>();

export function currentSession(): Session | null {
  return session;
}

export function onSession(f: (s: Session | null) => void): void {
  listeners.add(f);
}

function setSession(s: Session | null): void {
  session = s;
  for (const f of listeners) f(s);
}

export function can(scope: string): boolean {
  return !!session && session.user.scopes.includes(scope);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string };
    if (res.status === 401 && path !== '/v1/console/session') setSession(null);
    throw new ApiError(res.status, p.code ?? `http.${res.status}`, p.detail ?? p.title ?? res.statusText);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  del: <T>(path: string) => call<T>('DELETE', path),
};

export async function restoreSession(): Promise<Session | null> {
  try {
    setSession(await call<Session>('GET', '/v1/console/session'));
  } catch {
    setSession(null);
  }
  return session;
}

export async function signIn(username: string, password: string, tenant: string): Promise<Session> {
  const s = await call<Session>('POST', '/v1/console/session', { username, password, ...(tenant ? { tenant } : {}) });
  setSession(s);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await call('DELETE', '/v1/console/session');
  } finally {
    setSession(null);
  }
}

export const q = (params: Record<string, string | number | undefined | null>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};
