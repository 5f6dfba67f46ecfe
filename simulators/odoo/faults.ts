/**
 * Fault injection for the Odoo simulator: what a connector meets in production, on demand.
 * Set through `POST /__sim/faults` (JSON) or the simulator object in tests.
 *
 * - latencyMs: added to every RPC call (10 ms is a real Odoo 18 on this kind of machine);
 * - down: the listener closes (connection refused) for `forMs`, then reopens on the same port;
 * - proxyError: the next `count` calls get an HTML 502/503 from "the proxy" in front of Odoo;
 * - expireSessions: every web session ends (the next call through a cookie gets code 100);
 * - serializationFailures: the next `count` ORM calls fail as PostgreSQL serialization
 *   failures after Odoo's own retries (nothing is changed);
 * - slow: the next `count` calls answer after `ms` (longer than the client's timeout);
 * - dropAfterCommit: the next `count` calls are executed and committed, then the connection is
 *   destroyed before any answer (the "committed, response lost" case).
 *
 * A fault may be limited to calls of one model and/or method with `match`.
 */

export interface CallMatch {
  model?: string;
  method?: string;
}

export interface CountedFault {
  count: number;
  match?: CallMatch;
}

export interface FaultSpec {
  latencyMs?: number;
  down?: { forMs: number };
  proxyError?: CountedFault & { status: 502 | 503 };
  expireSessions?: boolean;
  serializationFailures?: CountedFault;
  slow?: CountedFault & { ms: number };
  dropAfterCommit?: CountedFault;
}

export interface CallInfo {
  model?: string | undefined;
  method?: string | undefined;
}

function matches(m: CallMatch | undefined, call: CallInfo): boolean {
  if (!m) return true;
  return (m.model === undefined || m.model === call.model) && (m.method === undefined || m.method === call.method);
}

/** The active faults; each counted fault is consumed by the calls it hits. */
export class Faults {
  latencyMs = 0;
  proxyError: (CountedFault & { status: 502 | 503 }) | undefined;
  serializationFailures: CountedFault | undefined;
  slow: (CountedFault & { ms: number }) | undefined;
  dropAfterCommit: CountedFault | undefined;

  set(spec: FaultSpec): void {
    if (spec.latencyMs !== undefined) this.latencyMs = Math.max(0, spec.latencyMs);
    if (spec.proxyError) this.proxyError = { ...spec.proxyError };
    if (spec.serializationFailures) this.serializationFailures = { ...spec.serializationFailures };
    if (spec.slow) this.slow = { ...spec.slow };
    if (spec.dropAfterCommit) this.dropAfterCommit = { ...spec.dropAfterCommit };
  }

  clear(): void {
    this.latencyMs = 0;
    this.proxyError = this.serializationFailures = this.slow = this.dropAfterCommit = undefined;
  }

  /** Takes one from a counted fault when the call matches it. */
  take<K extends 'proxyError' | 'serializationFailures' | 'slow' | 'dropAfterCommit'>(kind: K, call: CallInfo): this[K] | undefined {
    const f = this[kind] as CountedFault | undefined;
    if (!f || f.count <= 0 || !matches(f.match, call)) return undefined;
    f.count -= 1;
    const taken = { ...f } as this[K];
    if (f.count <= 0) (this as Record<string, unknown>)[kind] = undefined;
    return taken;
  }

  describe(): Record<string, unknown> {
    return { latencyMs: this.latencyMs, proxyError: this.proxyError ?? null, serializationFailures: this.serializationFailures ?? null, slow: this.slow ?? null, dropAfterCommit: this.dropAfterCommit ?? null };
  }
}

/** The page nginx answers when Odoo behind it is gone. */
export function proxyErrorPage(status: 502 | 503): string {
  const title = status === 502 ? '502 Bad Gateway' : '503 Service Temporarily Unavailable';
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}
