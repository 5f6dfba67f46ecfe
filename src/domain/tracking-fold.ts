/**
 * The tracking fold: turns the carrier scans received so far for one shipment into its
 * tracking state (a status per piece, the shipment's status, the timeline, the ETA and the
 * proof of delivery).
 *
 * Carriers report scans by webhook and by polling, duplicated, out of order and per piece of a
 * multi-piece shipment. The fold is a pure function of the SET of distinct scans: the same
 * scans in any arrival order, any number of times, in one call or in several, give the same
 * state. It never trusts arrival order: every call re-applies the whole timeline in instant
 * order. The rules are documented in docs/tracking.md; in short:
 *
 * 1. identity: (carrier, piece-or-master tracking number, code, instant); a scan with a known
 *    identity is a duplicate, whatever else differs, and the first one received is kept;
 * 2. per piece, scans apply in (instant, id) order with a progress rank (TRACKING_RANK); a
 *    lower rank is a regression, delivered and cancelled are terminal, `unknown` never applies;
 * 3. a scan about the master number applies to every piece (unless the master number is itself
 *    one of the listed pieces);
 * 4. the shipment is delivered only when every piece is; otherwise the most severe problem of
 *    any piece, otherwise the least advanced piece's status.
 *
 * Pure: no clock, no I/O.
 */
import { ValidationError } from './errors.ts';
import type { FieldIssue } from './errors.ts';
import { EXCEPTION_CLASSES, TRACKING_STATUSES } from './model.ts';
import type { ExceptionClass, TrackingStatus } from './model.ts';
import { formatInstant, instantKey, parseInstant } from './time.ts';
import type { CarrierScan, ScanPlace } from './tracking.ts';

/** Why a scan in the timeline was not applied to the status. */
export type IgnoredReason = 'regression' | 'unknown_code' | 'after_terminal';

/** One distinct scan as the timeline keeps it. */
export interface FoldedScan {
  /** scanId of the scan */
  id: string;
  /** the piece's tracking number, or the master tracking number for a scan about the whole shipment */
  piece: string;
  status: TrackingStatus;
  code: string;
  carrier: string;
  /** the instant, in the canonical display form of src/domain/time.ts (UTC, milliseconds) */
  at: string;
  description?: string;
  exceptionClass?: ExceptionClass;
  location?: ScanPlace;
  estimatedDeliveryAt?: string;
  signedBy?: string;
  podReference?: string;
  /** set when this scan was not applied to the status (regression, unknown code, after a terminal status) */
  ignored?: IgnoredReason;
}

/** The tracking state of one shipment: plain JSON, stored and passed back to the next fold. */
export interface TrackingState {
  carrier: string;
  trackingNumber: string;
  /** piece tracking numbers expected (multi-piece), sorted; [] = single-piece (the master number is the piece) */
  pieces: string[];
  /** the shipment's canonical status */
  status: TrackingStatus;
  /** instant of the scan that set it */
  statusAt?: string;
  perPiece: Record<string, { status: TrackingStatus; at?: string }>;
  /** every distinct scan, sorted by (at, id) */
  timeline: FoldedScan[];
  /** from the latest scan carrying one */
  estimatedDeliveryAt?: string;
  /** when every piece is delivered */
  delivered?: { at: string; signedBy?: string; podReference?: string };
}

/** What one fold call did. */
export interface FoldResult {
  state: TrackingState;
  /** scans new in this call (duplicates excluded), in timeline order */
  added: FoldedScan[];
  /** scans of this call whose identity was already known (in the state or earlier in the call) */
  duplicates: CarrierScan[];
  /** scans flagged as regressions by this call: new ones, and earlier ones that a late scan turned into regressions */
  regressions: FoldedScan[];
  /** scans new in this call whose code the carrier adapter's table does not know */
  unknownCodes: FoldedScan[];
  statusChanged: boolean;
  previousStatus: TrackingStatus;
}

/**
 * Progress rank of each status (`unknown` has none). A scan whose status ranks lower than the
 * piece's current status is a regression; equal or higher applies.
 */
export const TRACKING_RANK: Readonly<Record<Exclude<TrackingStatus, 'unknown'>, number>> = {
  pending: 0,
  info_received: 1,
  picked_up: 2,
  in_transit: 3,
  delayed: 3,
  on_hold: 3,
  exception: 3,
  out_for_delivery: 4,
  delivery_failed: 4,
  available_for_pickup: 5,
  returned_to_sender: 5,
  delivered: 6,
  cancelled: 6,
};

/** Statuses nothing moves out of (except delivered after cancelled, see docs/tracking.md). */
const TERMINAL: ReadonlySet<TrackingStatus> = new Set(['delivered', 'cancelled']);

/** Problem statuses, most severe first: a shipment with a piece in one of them takes the most severe. */
const PROBLEMS: readonly TrackingStatus[] = ['returned_to_sender', 'exception', 'delivery_failed', 'on_hold', 'delayed'];

const rankOf = (s: TrackingStatus): number | undefined => (s === 'unknown' ? undefined : TRACKING_RANK[s]);

/**
 * True when moving a piece from `from` to `to` goes backwards: `to` ranks lower than `from`.
 * False when either status is `unknown` (an unknown code is never a regression: it is ignored).
 * Terminal statuses are not considered here (see foldScans: anything after them is ignored).
 */
export function isRegression(from: TrackingStatus, to: TrackingStatus): boolean {
  const a = rankOf(from);
  const b = rankOf(to);
  return a !== undefined && b !== undefined && b < a;
}

/**
 * The canonical spelling of a tracking number: whitespace removed, upper case. Carriers
 * print them in groups ("1Z 999 AA1 01 2345 6784") and in either case; none gives case a meaning.
 */
export function normaliseTrackingNumber(n: string): string {
  return n.replace(/\s+/g, '').toUpperCase();
}

const escapePart = (s: string) => s.replace(/%/g, '%25').replace(/\|/g, '%7C');

/**
 * The identity of a scan: carrier, the piece's tracking number (or the master number for a
 * scan about the whole shipment), the carrier's code and the instant (exact, whatever its
 * spelling), as `carrier|number|code|instantKey`. Never a hash of the payload: a re-sent scan
 * with another description, location or request id has the same identity.
 * Throws a ValidationError when `occurredAt` is not an RFC 3339 date-time.
 */
export function scanId(s: CarrierScan): string {
  const i = parseInstant(s.occurredAt);
  if (!i) throw new ValidationError('tracking.invalid_scan', `occurredAt ${JSON.stringify(s.occurredAt)} is not an RFC 3339 date-time`, [{ path: '/occurredAt', message: 'not an RFC 3339 date-time' }]);
  const piece = normaliseTrackingNumber(s.pieceNumber ?? s.trackingNumber);
  return [s.carrier, piece, s.code, instantKey(i)].map(escapePart).join('|');
}

function normalisePieces(master: string, pieces: readonly string[], path: string): string[] {
  const issues: FieldIssue[] = [];
  const out = new Set<string>();
  pieces.forEach((p, i) => {
    const n = typeof p === 'string' ? normaliseTrackingNumber(p) : '';
    if (!n) issues.push({ path: `${path}/${i}`, message: 'must be a non-empty tracking number' });
    else out.add(n);
  });
  if (issues.length) throw new ValidationError('tracking.invalid_shipment', `invalid piece tracking numbers for ${master}`, issues);
  return [...out].sort();
}

/**
 * The tracking state of a shipment no scan has been received for: status `pending`, every
 * piece pending. `pieces` are the expected piece tracking numbers of a multi-piece shipment
 * (de-duplicated and sorted); none = single-piece.
 */
export function emptyTracking(carrier: string, trackingNumber: string, pieces: readonly string[] = []): TrackingState {
  const issues: FieldIssue[] = [];
  if (typeof carrier !== 'string' || !carrier) issues.push({ path: '/carrier', message: 'must be a non-empty carrier id' });
  const master = typeof trackingNumber === 'string' ? normaliseTrackingNumber(trackingNumber) : '';
  if (!master) issues.push({ path: '/trackingNumber', message: 'must be a non-empty tracking number' });
  if (!Array.isArray(pieces)) issues.push({ path: '/pieces', message: 'must be a list of tracking numbers' });
  if (issues.length) throw new ValidationError('tracking.invalid_shipment', 'invalid shipment for tracking', issues);
  const list = normalisePieces(master, pieces, '/pieces');
  const perPiece: TrackingState['perPiece'] = {};
  for (const p of list.length ? list : [master]) perPiece[p] = { status: 'pending' };
  return { carrier, trackingNumber: master, pieces: list, status: 'pending', perPiece, timeline: [] };
}

// ---------------------------------------------------------------------------------------
// validation

const STATUS_SET: ReadonlySet<string> = new Set(TRACKING_STATUSES);
const TIME_RULES: ReadonlySet<string> = new Set(['offset', 'zone', 'utc', 'assumed']);

function scanIssues(state: TrackingState, s: CarrierScan, at: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const bad = (field: string, message: string) => issues.push({ path: `${at}/${field}`, message });
  const isStr = (v: unknown): v is string => typeof v === 'string';
  if (s === null || typeof s !== 'object') return [{ path: at, message: 'must be a scan object' }];
  if (s.carrier !== state.carrier) bad('carrier', `must be ${JSON.stringify(state.carrier)}, the shipment's carrier`);
  if (!isStr(s.trackingNumber) || normaliseTrackingNumber(s.trackingNumber) !== state.trackingNumber) bad('trackingNumber', `must be ${JSON.stringify(state.trackingNumber)}, the shipment's tracking number`);
  if (s.pieceNumber !== undefined && (!isStr(s.pieceNumber) || !normaliseTrackingNumber(s.pieceNumber))) bad('pieceNumber', 'must be a non-empty tracking number when present');
  if (!isStr(s.code) || !s.code) bad('code', 'must be the non-empty carrier code');
  if (!STATUS_SET.has(s.status)) bad('status', `must be one of ${TRACKING_STATUSES.join(', ')}`);
  if (s.exceptionClass !== undefined && !Object.hasOwn(EXCEPTION_CLASSES, s.exceptionClass)) bad('exceptionClass', 'must be a known exception class');
  if (!isStr(s.occurredAt) || !parseInstant(s.occurredAt)) bad('occurredAt', 'must be an RFC 3339 date-time');
  if (!TIME_RULES.has(s.timeRule)) bad('timeRule', 'must be offset, zone, utc or assumed');
  if (s.estimatedDeliveryAt !== undefined && (!isStr(s.estimatedDeliveryAt) || !parseInstant(s.estimatedDeliveryAt))) bad('estimatedDeliveryAt', 'must be an RFC 3339 date-time when present');
  for (const f of ['description', 'signedBy', 'podReference'] as const) {
    if (s[f] !== undefined && !isStr(s[f])) bad(f, 'must be a string when present');
  }
  if (s.location !== undefined && (s.location === null || typeof s.location !== 'object')) bad('location', 'must be an object when present');
  return issues;
}

// ---------------------------------------------------------------------------------------
// the fold

/** A FoldedScan with the sort key of its instant (fixed width, exact to the nanosecond). */
interface Entry {
  scan: FoldedScan;
  key: string;
}

function toFolded(s: CarrierScan, master: string): FoldedScan {
  const f: FoldedScan = {
    id: scanId(s),
    piece: s.pieceNumber === undefined ? master : normaliseTrackingNumber(s.pieceNumber),
    status: s.status,
    code: s.code,
    carrier: s.carrier,
    at: formatInstant(parseInstant(s.occurredAt)!),
  };
  if (s.description !== undefined) f.description = s.description;
  if (s.exceptionClass !== undefined) f.exceptionClass = s.exceptionClass;
  if (s.location !== undefined) f.location = { ...s.location };
  if (s.estimatedDeliveryAt !== undefined) f.estimatedDeliveryAt = formatInstant(parseInstant(s.estimatedDeliveryAt)!);
  if (s.signedBy !== undefined) f.signedBy = s.signedBy;
  if (s.podReference !== undefined) f.podReference = s.podReference;
  return f;
}

/** A copy of a timeline scan without its flag (flags are recomputed by every fold). */
function unflagged(f: FoldedScan): FoldedScan {
  const { ignored: _ignored, ...rest } = f;
  return { ...rest, ...(f.location ? { location: { ...f.location } } : {}) };
}

const compareEntries = (a: Entry, b: Entry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.scan.id < b.scan.id ? -1 : a.scan.id > b.scan.id ? 1 : 0);

/**
 * The pieces of the shipment: the expected ones plus any piece number a scan with a known
 * status reveals. When a single-piece shipment turns out to have pieces, the master number
 * becomes one of them (UPS and FedEx give the lead package the master number).
 */
function effectivePieces(master: string, expected: readonly string[], entries: readonly Entry[]): string[] {
  const known = new Set(expected);
  const found = new Set<string>();
  for (const { scan } of entries) {
    if (scan.status !== 'unknown' && scan.piece !== master && !known.has(scan.piece)) found.add(scan.piece);
  }
  if (!found.size) return [...expected];
  if (!expected.length) found.add(master);
  return [...new Set([...expected, ...found])].sort();
}

interface PieceRun {
  status: TrackingStatus;
  at?: string;
  key?: string;
  /** the scan that delivered the piece */
  deliveredBy?: Entry;
}

/**
 * Folds `scans` into `state` and returns the new state with what this call changed. Pure:
 * `state` is not modified. The result depends only on the set of distinct scans in
 * `state.timeline` and `scans` (plus the expected pieces), never on arrival order or on how
 * the scans were split between calls. Throws a ValidationError (code
 * `tracking.invalid_scan`, one issue per bad field, `index` of the first bad scan) when a scan
 * is malformed or belongs to another shipment; then nothing is folded.
 */
export function foldScans(state: TrackingState, scans: readonly CarrierScan[]): FoldResult {
  const issues = scans.flatMap((s, i) => scanIssues(state, s, `/${i}`));
  if (issues.length) {
    const index = Number(issues[0]!.path.split('/')[1]);
    throw new ValidationError('tracking.invalid_scan', `invalid carrier scan${issues.length > 1 ? 's' : ''} for ${state.carrier} ${state.trackingNumber}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues, { index });
  }
  const master = state.trackingNumber;

  // 1. distinct scans: the known timeline first, then this call's scans in arrival order
  const byId = new Map<string, Entry>();
  const previousFlag = new Map<string, IgnoredReason | undefined>();
  for (const f of state.timeline) {
    const scan = unflagged(f);
    byId.set(f.id, { scan, key: instantKey(parseInstant(f.at)!) });
    previousFlag.set(f.id, f.ignored);
  }
  const duplicates: CarrierScan[] = [];
  const addedIds = new Set<string>();
  for (const s of scans) {
    const scan = toFolded(s, master);
    if (byId.has(scan.id)) {
      duplicates.push(s);
      continue;
    }
    byId.set(scan.id, { scan, key: instantKey(parseInstant(scan.at)!) });
    addedIds.add(scan.id);
  }
  const entries = [...byId.values()].sort(compareEntries);

  // 2. pieces, and which pieces each scan is about
  const pieces = effectivePieces(master, state.pieces, entries);
  const pieceList = pieces.length ? pieces : [master];
  const pieceSet = new Set(pieceList);
  const targets = (f: FoldedScan): string[] => (pieceSet.has(f.piece) ? [f.piece] : f.piece === master ? pieceList : []);

  // 3. replay every piece in (instant, id) order
  const runs = new Map<string, PieceRun>(pieceList.map((p) => [p, { status: 'pending' }]));
  for (const e of entries) {
    const f = e.scan;
    if (f.status === 'unknown') {
      f.ignored = 'unknown_code';
      continue;
    }
    let applied = false;
    let allTerminal = true;
    for (const p of targets(f)) {
      const run = runs.get(p)!;
      const terminal = TERMINAL.has(run.status) && !(run.status === 'cancelled' && f.status === 'delivered');
      if (!terminal) allTerminal = false;
      if (terminal || isRegression(run.status, f.status)) continue;
      applied = true;
      run.status = f.status;
      run.at = f.at;
      run.key = e.key;
      if (f.status === 'delivered') run.deliveredBy = e;
    }
    if (!applied) f.ignored = allTerminal ? 'after_terminal' : 'regression';
  }

  // 4. the shipment's status
  const perPiece: TrackingState['perPiece'] = {};
  for (const [p, r] of runs) perPiece[p] = r.at === undefined ? { status: r.status } : { status: r.status, at: r.at };
  const all = [...runs.values()];
  const latestOf = (rs: PieceRun[]) => rs.reduce<PieceRun | undefined>((best, r) => (r.key !== undefined && (best?.key === undefined || r.key > best.key) ? r : best), undefined);
  let status: TrackingStatus;
  let statusAt: string | undefined;
  let delivered: TrackingState['delivered'];
  if (all.every((r) => r.status === 'delivered')) {
    const last = all.map((r) => r.deliveredBy!).sort(compareEntries).at(-1)!;
    status = 'delivered';
    statusAt = last.scan.at;
    delivered = { at: last.scan.at };
    if (last.scan.signedBy !== undefined) delivered.signedBy = last.scan.signedBy;
    if (last.scan.podReference !== undefined) delivered.podReference = last.scan.podReference;
  } else {
    const problem = PROBLEMS.find((s) => all.some((r) => r.status === s));
    // least advanced: lowest rank; at equal rank a piece not delivered counts as less advanced
    const order = (s: TrackingStatus) => rankOf(s)! * 2 + (s === 'delivered' ? 1 : 0);
    status = problem ?? all.reduce((a, r) => (order(r.status) < order(a) ? r.status : a), all[0]!.status);
    statusAt = latestOf(all.filter((r) => r.status === status))?.at;
  }

  // 5. the ETA of the latest scan carrying one that was applied or is a regression
  let eta: string | undefined;
  for (const e of entries) {
    if (e.scan.estimatedDeliveryAt !== undefined && e.scan.ignored !== 'unknown_code' && e.scan.ignored !== 'after_terminal') eta = e.scan.estimatedDeliveryAt;
  }

  const timeline = entries.map((e) => e.scan);
  const next: TrackingState = { carrier: state.carrier, trackingNumber: master, pieces, status, perPiece, timeline };
  if (statusAt !== undefined) next.statusAt = statusAt;
  if (eta !== undefined) next.estimatedDeliveryAt = eta;
  if (delivered) next.delivered = delivered;

  const added = timeline.filter((f) => addedIds.has(f.id));
  return {
    state: next,
    added,
    duplicates,
    regressions: timeline.filter((f) => f.ignored === 'regression' && (addedIds.has(f.id) || previousFlag.get(f.id) !== 'regression')),
    unknownCodes: added.filter((f) => f.ignored === 'unknown_code'),
    statusChanged: status !== state.status,
    previousStatus: state.status,
  };
}
