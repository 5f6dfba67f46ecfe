/**
 * A snapshot of every connector's health for the console, read from this process's metrics
 * registry (hub_connector_* in metrics.ts): calls and failures since the process started, the
 * failure rate, latency percentiles estimated from the histogram buckets, whether a circuit
 * breaker holds the calls back, and the tokens left in a rate limiter.
 *
 * Calls are counted per connector for the whole process (the call metrics carry no tenant);
 * breakers and rate limiters are per tenant. A connector with per-tenant gauges therefore has
 * one row per tenant, each with the connector's call figures; one without has a single row
 * without `tenant`.
 */
import type { Metrics } from './metrics.ts';

export interface ConnectorHealth {
  connector: string;
  tenant?: string;
  /** HTTP exchanges with the partner */
  calls: number;
  /** exchanges that failed (any error class) */
  errors: number;
  errorsByClass: { transient: number; permanent: number; business: number };
  /** errors / calls (0 without calls) */
  errorRate: number;
  /** latency percentiles in ms, from the histogram buckets (null without calls) */
  p50Ms: number | null;
  p95Ms: number | null;
  /** a circuit breaker holds the calls back */
  breakerOpen: boolean;
  /** tokens left in the rate limiter, when the connector has one */
  rateLimitTokens?: number;
}

type HealthMetrics = Pick<Metrics, 'connectorCalls' | 'connectorCallDuration' | 'connectorBreakerOpen' | 'connectorRateLimitTokens'>;

/** The q-quantile (0..1) of cumulative buckets [upper bound in s, count ≤ bound], by linear interpolation within the bucket. */
export function quantileFromBuckets(buckets: [number, number][], q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      // the +Inf bucket: the best estimate is the largest finite bound
      if (!Number.isFinite(bound)) return prevBound;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket : bound;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 10_000) / 10);

/** One row per connector (per connector and tenant where breakers or limiters are per tenant), sorted. */
export async function connectorHealth(metrics: HealthMetrics): Promise<ConnectorHealth[]> {
  const [calls, duration, breakers, tokens] = await Promise.all([
    metrics.connectorCalls.get(),
    metrics.connectorCallDuration.get(),
    metrics.connectorBreakerOpen.get(),
    metrics.connectorRateLimitTokens.get(),
  ]);
  const stats = new Map<string, { calls: number; byClass: ConnectorHealth['errorsByClass']; buckets: Map<number, number> }>();
  const statsOf = (c: string) => {
    let s = stats.get(c);
    if (!s) stats.set(c, (s = { calls: 0, byClass: { transient: 0, permanent: 0, business: 0 }, buckets: new Map() }));
    return s;
  };
  for (const v of calls.values) {
    const s = statsOf(String(v.labels.connector));
    s.calls += v.value;
    const outcome = String(v.labels.outcome);
    if (outcome === 'transient' || outcome === 'permanent' || outcome === 'business') s.byClass[outcome] += v.value;
  }
  for (const v of duration.values) {
    const labels = v.labels as Record<string, string | number | undefined>;
    if (!v.metricName?.endsWith('_bucket') || labels.le === undefined) continue;
    const s = statsOf(String(labels.connector));
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    s.buckets.set(le, (s.buckets.get(le) ?? 0) + v.value);
  }
  const perTenant = new Map<string, { breakerOpen: boolean; rateLimitTokens?: number }>();
  const tenantRow = (connector: string, tenant: string) => {
    const k = `${connector}\u0000${tenant}`;
    let r = perTenant.get(k);
    if (!r) perTenant.set(k, (r = { breakerOpen: false }));
    return r;
  };
  for (const v of breakers.values) tenantRow(String(v.labels.connector), String(v.labels.tenant)).breakerOpen ||= v.value > 0;
  for (const v of tokens.values) tenantRow(String(v.labels.connector), String(v.labels.tenant)).rateLimitTokens = Math.floor(v.value * 100) / 100;

  const figures = (connector: string) => {
    const s = stats.get(connector);
    const errors = s ? s.byClass.transient + s.byClass.permanent + s.byClass.business : 0;
    const buckets = s ? [...s.buckets.entries()] : [];
    return {
      calls: s?.calls ?? 0,
      errors,
      errorsByClass: s ? { ...s.byClass } : { transient: 0, permanent: 0, business: 0 },
      errorRate: s && s.calls > 0 ? errors / s.calls : 0,
      p50Ms: ms(quantileFromBuckets(buckets, 0.5)),
      p95Ms: ms(quantileFromBuckets(buckets, 0.95)),
    };
  };
  const rows: ConnectorHealth[] = [];
  const withTenants = new Set<string>();
  for (const [k, r] of perTenant) {
    const [connector, tenant] = k.split('\u0000') as [string, string];
    withTenants.add(connector);
    rows.push({ connector, tenant, ...figures(connector), breakerOpen: r.breakerOpen, ...(r.rateLimitTokens !== undefined ? { rateLimitTokens: r.rateLimitTokens } : {}) });
  }
  for (const connector of stats.keys()) if (!withTenants.has(connector)) rows.push({ connector, ...figures(connector), breakerOpen: false });
  return rows.sort((a, b) => a.connector.localeCompare(b.connector) || (a.tenant ?? '').localeCompare(b.tenant ?? ''));
}
