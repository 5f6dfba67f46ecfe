/**
 * Which warehouse ships what: the routing of a released order over the configured warehouses,
 * by stock per warehouse, destination region and priority, split when no single warehouse can
 * ship it all. Pure.
 *
 * Rules, in order:
 * 1. Eligible warehouses are those serving the destination country; when none declares it,
 *    every warehouse is eligible (a catch-all network).
 * 2. When one eligible warehouse has stock for every line, it ships everything: among several,
 *    the one that names the country (over a catch-all), then the lowest priority number, then
 *    the id.
 * 3. Otherwise the order is split, greedily: the warehouse that can ship the most units of what
 *    is left (ties as in 2) takes every line it can ship whole, then the next; a line no
 *    warehouse holds whole is spread over the warehouses holding some of it.
 * 4. What no eligible warehouse has goes to the first warehouse of rule 2's order (its WMS will
 *    short-pick and the hub backorders it); the result says so in `shortfall`.
 * Invariants (property-tested): each line's quantities over the parts add up to the ordered
 * quantity; no warehouse appears twice; a part never has a zero quantity; stock is never
 * allocated beyond what a warehouse holds except the shortfall.
 */

export interface WarehouseSite {
  id: string;
  /** lower ships first among equals */
  priority: number;
  /** ISO country codes served; empty or absent: serves any */
  countries?: readonly string[];
}

export interface RouteLine {
  lineId: string;
  sku: string;
  quantity: number;
}

export interface RoutePart {
  warehouseId: string;
  lines: RouteLine[];
}

export interface Routing {
  parts: RoutePart[];
  /** units no eligible warehouse holds, per line (sent to the first warehouse anyway) */
  shortfall: RouteLine[];
  /** why the order went where it went, for the trace */
  reason: string;
}

/** Stock on hand per warehouse and SKU. */
export type StockByWarehouse = Readonly<Record<string, Readonly<Record<string, number>>>>;

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export function routeOrder(lines: readonly RouteLine[], country: string | undefined, sites: readonly WarehouseSite[], stock: StockByWarehouse): Routing {
  if (!sites.length) throw new Error('no warehouse is configured');
  const named = sites.filter((s) => country && s.countries?.includes(country));
  const catchAll = sites.filter((s) => !s.countries?.length);
  const eligible = named.length || catchAll.length ? [...named, ...catchAll] : [...sites];
  const rank = (a: WarehouseSite, b: WarehouseSite) =>
    Number(!named.includes(a)) - Number(!named.includes(b)) || a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  eligible.sort(rank);
  const have = (w: string, sku: string) => Math.max(0, stock[w]?.[sku] ?? 0);

  const whole = eligible.find((w) => lines.every((l) => have(w.id, l.sku) >= l.quantity));
  if (whole) return { parts: [{ warehouseId: whole.id, lines: lines.map((l) => ({ ...l })) }], shortfall: [], reason: `${whole.id} holds every line` };

  const left = new Map(lines.map((l) => [l.lineId, l.quantity]));
  const free = new Map(eligible.map((w) => [w.id, { ...(stock[w.id] ?? {}) } as Record<string, number>]));
  const parts = new Map<string, RouteLine[]>();
  const take = (w: string, l: RouteLine, q: number) => {
    if (q <= 0) return;
    const p = parts.get(w) ?? [];
    const same = p.find((x) => x.lineId === l.lineId);
    if (same) same.quantity = round(same.quantity + q);
    else p.push({ ...l, quantity: round(q) });
    parts.set(w, p);
    left.set(l.lineId, round(left.get(l.lineId)! - q));
    const f = free.get(w)!;
    f[l.sku] = round((f[l.sku] ?? 0) - q);
  };
  // whole lines first, the warehouse covering most of what is left first
  const open = () => lines.filter((l) => left.get(l.lineId)! > 0);
  const used = new Set<string>();
  for (;;) {
    let best: { w: WarehouseSite; units: number } | undefined;
    for (const w of eligible) {
      if (used.has(w.id)) continue;
      const units = open().filter((l) => (free.get(w.id)![l.sku] ?? 0) >= left.get(l.lineId)!).reduce((n, l) => n + left.get(l.lineId)!, 0);
      if (units > 0 && (!best || units > best.units)) best = { w, units };
    }
    if (!best) break;
    used.add(best.w.id);
    for (const l of open()) if ((free.get(best.w.id)![l.sku] ?? 0) >= left.get(l.lineId)!) take(best.w.id, l, left.get(l.lineId)!);
  }
  // lines no warehouse holds whole: spread over partial holders
  for (const l of open()) {
    for (const w of eligible) {
      const q = Math.min(left.get(l.lineId)!, Math.max(0, free.get(w.id)![l.sku] ?? 0));
      take(w.id, l, q);
      if (left.get(l.lineId)! <= 0) break;
    }
  }
  const shortfall = open().map((l) => ({ ...l, quantity: left.get(l.lineId)! }));
  for (const s of shortfall) take(eligible[0]!.id, s, s.quantity);
  const out = eligible.filter((w) => parts.has(w.id)).map((w) => ({ warehouseId: w.id, lines: parts.get(w.id)! }));
  const reason = out.length > 1
    ? `no single warehouse holds every line: split over ${out.map((p) => p.warehouseId).join(', ')}`
    : `${out[0]!.warehouseId} holds the most`;
  return { parts: out, shortfall, reason: shortfall.length ? `${reason}; short: ${shortfall.map((s) => `${s.sku} ×${s.quantity}`).join(', ')}` : reason };
}
