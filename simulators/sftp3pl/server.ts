/**
 * CSV-3PL: a third-party warehouse that exchanges CSV files over SFTP, for the SFTP warehouse
 * connector's tests and the demo. An SSH server (ssh2, a host key generated at start, password
 * authentication) serves an in-memory file system over SFTP, and a warehouse behind it works
 * the files the way a file-exchange 3PL does.
 *
 * Directories: /to-3pl (the hub's files; picked up files move to /to-3pl/processed, unreadable
 * ones to /to-3pl/error), /from-3pl (the 3PL's status files, with /from-3pl/archive and
 * /from-3pl/error for the hub), /stock (stock snapshots STK_<yyyyMMddHHmmss>.csv). Every file
 * is RFC 4180 CSV: comma, CRLF, a header row, UTF-8; times UTC as "2026-01-31 14:05:00".
 *
 * The warehouse, on its clock: it scans /to-3pl whenever time passes (files still named
 * *.tmp are left alone, as 3PLs tell their partners). An order file ORD_<ref>.csv is
 * acknowledged after acceptDelaySeconds (ACK, ACCEPTED; REJECTED for an unknown SKU or a
 * second order file with the same reference is ignored), picked after pickSeconds (PCK, short
 * when stock is short; nothing in stock at all: the 3PL cancels, CXL CANCELLED), packed after
 * packSeconds (PAK, one carton), and shipped shipSeconds after both packing and the hub's
 * label file LBL_<ref>.csv (SHP). A cancellation CAN_<ref>.csv is honoured until packing
 * (CXL CANCELLED, picked stock put back) and refused after (CXL REFUSED); an address
 * correction ADR_<ref>_*.csv is applied until shipping. Files it writes are named
 * <KIND>_<yyyyMMddHHmmss>_<seq>_<ref>.csv, so name order is the order of events.
 *
 * Time: an injectable Clock plus what `advance(seconds)` added; tests move time with
 * advance() or POST /__sim/advance. Faults: `setFaults({down: true})` cuts every connection
 * and refuses new ones until `down: false`. Administration over HTTP (not part of the 3PL):
 * /__sim/stats, /__sim/reset, /__sim/faults, /__sim/advance, /__sim/stock, /__sim/files.
 */
import { createHash, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, SFTPWrapper } from 'ssh2';
import { SimListener } from '../common/listener.ts';
import type { Clock } from '../../src/platform/clock.ts';
import { parseCsv, writeCsv } from '../../src/connectors/wms-sftp/csv.ts';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;

export const DIRS = {
  toWarehouse: '/to-3pl',
  processed: '/to-3pl/processed',
  rejected: '/to-3pl/error',
  fromWarehouse: '/from-3pl',
  archive: '/from-3pl/archive',
  error: '/from-3pl/error',
  stock: '/stock',
} as const;

export const DEFAULT_STOCK: Readonly<Record<string, number>> = { 'SKU-RED': 100, 'SKU-BLUE': 50, 'SKU-GREEN': 5, 'SKU-NONE': 0 };

export interface Sftp3plOptions {
  port?: number;
  host?: string;
  clock?: Clock;
  username?: string;
  password?: string;
  /** a host private key (OpenSSH format); one is generated when absent */
  hostKey?: string;
  stock?: Record<string, number>;
  acceptDelaySeconds?: number;
  pickSeconds?: number;
  packSeconds?: number;
  shipSeconds?: number;
}

export interface Sftp3plFaults {
  /** connections cut and refused while true */
  down?: boolean;
}

type OrderState = 'received' | 'accepted' | 'picked' | 'packed' | 'shipped' | 'cancelled' | 'rejected';

interface OrderLine {
  lineNo: number;
  lineRef: string;
  sku: string;
  quantity: number;
  uom: string;
  picked: number;
}

interface ShipTo {
  name: string;
  address1: string;
  address2: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
}

export interface Order3pl {
  ref: string;
  clientOrder: string;
  wmsOrderId: string;
  state: OrderState;
  lines: OrderLine[];
  shipTo: ShipTo;
  serviceLevel: string;
  receivedAt: number;
  /** simulated ms of the next step, if one is due */
  nextAt?: number;
  labels?: { carrier: string; service: string; master: string };
  packedAt?: number;
}

interface MemFile {
  data: Buffer;
  mtime: number;
}

type Handle = { kind: 'file'; path: string; write: boolean; written: boolean } | { kind: 'dir'; path: string; listed: boolean };

export interface Sftp3plStats {
  connections: number;
  /** order files picked up (names) */
  pickedUp: string[];
  /** files closed after writing under their final name in /to-3pl (a non-atomic writer; should stay empty) */
  writtenInPlace: string[];
  /** renames into /to-3pl */
  renamedIn: string[];
  /** order files with a reference already known (ignored) */
  duplicates: string[];
  /** files the 3PL could not read (moved to /to-3pl/error) */
  unreadable: string[];
  /** files the 3PL wrote */
  written: string[];
}

const wireTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
const eq = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The in-process SFTP 3PL. */
export class Sftp3plSimulator {
  url = '';
  host: string;
  port = 0;
  readonly username: string;
  readonly password: string;
  /** SHA256:<base64> of the host key, as `ssh-keygen -lf` prints it */
  readonly hostKeySha256: string;
  readonly #hostKey: string;
  readonly #o: Sftp3plOptions;
  readonly #clock: Clock | undefined;
  #offsetMs = 0;
  #simNow: number | undefined;
  readonly #files = new Map<string, MemFile>();
  readonly #dirs = new Set<string>();
  readonly #orders = new Map<string, Order3pl>();
  #stock: Record<string, number> = {};
  #seq = 0;
  #down = false;
  #stats: Sftp3plStats = Sftp3plSimulator.#emptyStats();
  readonly #ssh: InstanceType<typeof ssh2.Server>;
  #net: NetServer | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #admin: SimListener;

  static #emptyStats(): Sftp3plStats {
    return { connections: 0, pickedUp: [], writtenInPlace: [], renamedIn: [], duplicates: [], unreadable: [], written: [] };
  }

  private constructor(o: Sftp3plOptions) {
    this.#o = o;
    this.#clock = o.clock;
    this.host = o.host ?? '127.0.0.1';
    this.port = o.port ?? 0;
    this.username = o.username ?? 'hub';
    this.password = o.password ?? 'hub-secret';
    // an ECDSA P-256 host key in PEM: ssh2's own ed25519 generator yields a key its parser refuses about once in 200
    this.#hostKey = o.hostKey ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
    const parsed = ssh2.utils.parseKey(this.#hostKey);
    if (parsed instanceof Error) throw parsed;
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    this.hostKeySha256 = 'SHA256:' + createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
    this.#ssh = new ssh2.Server({ hostKeys: [this.#hostKey] }, (c) => this.#onConnection(c));
    this.#admin = new SimListener((req, res) => this.#adminRequest(req, res), { host: this.host });
    this.#init();
  }

  /** Starts the SSH server and the admin endpoint; resolves once both listen. */
  static async start(o: Sftp3plOptions = {}): Promise<Sftp3plSimulator> {
    const sim = new Sftp3plSimulator(o);
    await sim.#listen();
    await sim.#admin.listen();
    return sim;
  }

  /** http://host:port of the administration endpoint (/__sim/...). */
  get adminUrl(): string {
    return this.#admin.url;
  }

  #init(): void {
    this.#files.clear();
    this.#dirs.clear();
    this.#orders.clear();
    for (const d of ['/', ...Object.values(DIRS)]) this.#dirs.add(d);
    this.#stock = { ...(this.#o.stock ?? DEFAULT_STOCK) };
    this.#seq = 0;
    this.#stats = Sftp3plSimulator.#emptyStats();
    this.#writeStock();
  }

  // ------------------------------------------------------------------------------ time

  now(): number {
    return this.#simNow ?? (this.#clock ? this.#clock.now().getTime() : Date.now()) + this.#offsetMs;
  }

  /**
   * Moves the 3PL's time on by `seconds`: it scans its inbound directory, then runs every
   * step that falls due, in time order, scanning again after each.
   */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`advance needs a number of seconds >= 0 (got ${seconds})`);
    const target = this.now() + seconds * 1000;
    this.#scan();
    for (;;) {
      const due = [...this.#orders.values()].filter((o) => o.nextAt !== undefined && o.nextAt <= target).sort((a, b) => a.nextAt! - b.nextAt! || (a.ref < b.ref ? -1 : 1))[0];
      if (!due) break;
      this.#simNow = due.nextAt!;
      try {
        this.#step(due);
        this.#scan();
      } finally {
        this.#simNow = undefined;
      }
    }
    this.#offsetMs += target - this.now();
    this.#scan();
  }

  // ------------------------------------------------------------------------------ file system

  #norm(p: string): string {
    const n = posix.normalize(posix.join('/', p));
    return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
  }

  /** Writes a file (as someone on the server would; for tests: a bad status file). */
  putFile(path: string, content: string | Buffer): void {
    const p = this.#norm(path);
    if (!this.#dirs.has(posix.dirname(p))) throw new Error(`no directory ${posix.dirname(p)}`);
    this.#files.set(p, { data: Buffer.from(content), mtime: this.now() });
  }

  readFile(path: string): Buffer | undefined {
    return this.#files.get(this.#norm(path))?.data;
  }

  /** File names in a directory, sorted. */
  listFiles(dir: string): string[] {
    const d = this.#norm(dir);
    return [...this.#files.keys()].filter((p) => posix.dirname(p) === d).map((p) => posix.basename(p)).sort();
  }

  #write(dir: string, kind: string, ref: string, header: string[], rows: Record<string, unknown>[]): void {
    const name = `${kind}_${compact(this.now())}_${String(++this.#seq).padStart(6, '0')}_${ref.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;
    this.putFile(posix.join(dir, name), writeCsv(header, rows));
    this.#stats.written.push(name);
  }

  #writeStock(): void {
    for (const f of this.listFiles(DIRS.stock)) this.#files.delete(posix.join(DIRS.stock, f));
    const rows = Object.entries(this.#stock)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([sku, n]) => ({ sku, description: sku.toLowerCase().replace(/^sku-/, '') + ' item', on_hand: n, allocated: 0, available: n, uom: 'EA' }));
    this.putFile(posix.join(DIRS.stock, `STK_${compact(this.now())}.csv`), writeCsv(['sku', 'description', 'on_hand', 'allocated', 'available', 'uom'], rows));
  }

  // ------------------------------------------------------------------------------ the warehouse

  get orders(): ReadonlyMap<string, Order3pl> {
    return this.#orders;
  }

  get stock(): Readonly<Record<string, number>> {
    return this.#stock;
  }

  setStock(stock: Record<string, number>): void {
    Object.assign(this.#stock, stock);
    this.#writeStock();
  }

  /** Picks up the complete files of /to-3pl, in name order. */
  #scan(): void {
    for (const name of this.listFiles(DIRS.toWarehouse)) {
      if (name.endsWith('.tmp')) continue;
      const path = posix.join(DIRS.toWarehouse, name);
      const data = this.#files.get(path)!.data;
      let ok = true;
      try {
        const doc = parseCsv(data, name);
        const rows = doc.records.map((r) => r.values);
        if (rows.length === 0) throw new Error('no rows');
        if (name.startsWith('ORD_')) this.#receiveOrder(name, rows);
        else if (name.startsWith('CAN_')) this.#receiveCancel(rows);
        else if (name.startsWith('ADR_')) this.#receiveAddress(rows);
        else if (name.startsWith('LBL_')) this.#receiveLabels(rows);
        else throw new Error('unknown kind of file');
      } catch {
        ok = false;
        this.#stats.unreadable.push(name);
      }
      this.#stats.pickedUp.push(name);
      const to = posix.join(ok ? DIRS.processed : DIRS.rejected, name);
      this.#files.set(this.#files.has(to) ? `${to}.${this.#seq++}` : to, this.#files.get(path)!);
      this.#files.delete(path);
    }
  }

  #receiveOrder(name: string, rows: Record<string, string>[]): void {
    const h = rows[0]!;
    const ref = h.order_ref;
    if (!ref || !h.client_order) throw new Error('order_ref and client_order are required');
    if (this.#orders.has(ref)) {
      this.#stats.duplicates.push(name);
      return;
    }
    const lines = rows.map((r, i) => {
      const q = Number(r.quantity);
      if (!r.sku || !Number.isFinite(q) || q <= 0) throw new Error(`line ${i + 1}: sku and a positive quantity are required`);
      return { lineNo: Number(r.line_no) || i + 1, lineRef: r.line_ref || String(i + 1), sku: r.sku, quantity: q, uom: r.uom || 'EA', picked: 0 };
    });
    const order: Order3pl = {
      ref,
      clientOrder: h.client_order,
      wmsOrderId: `3PL-${String(this.#orders.size + 1).padStart(6, '0')}`,
      state: 'received',
      lines,
      shipTo: { name: h.ship_to_name ?? '', address1: h.ship_to_address1 ?? '', address2: h.ship_to_address2 ?? '', city: h.ship_to_city ?? '', state: h.ship_to_state ?? '', postalCode: h.ship_to_postal_code ?? '', country: h.ship_to_country ?? '' },
      serviceLevel: h.service_level ?? '',
      receivedAt: this.now(),
      nextAt: this.now() + (this.#o.acceptDelaySeconds ?? 60) * 1000,
    };
    this.#orders.set(ref, order);
  }

  #receiveCancel(rows: Record<string, string>[]): void {
    for (const r of rows) {
      const o = this.#orders.get(r.order_ref ?? '');
      const answer = (status: 'CANCELLED' | 'REFUSED', reason: string) =>
        this.#write(DIRS.fromWarehouse, 'CXL', r.order_ref ?? 'unknown', ['order_ref', 'client_order', 'wms_order_id', 'status', 'reason', 'event_time'], [
          { order_ref: r.order_ref, client_order: o?.clientOrder ?? r.client_order, wms_order_id: o?.wmsOrderId ?? '', status, reason, event_time: wireTime(this.now()) },
        ]);
      if (!o) answer('REFUSED', 'unknown order');
      else if (o.state === 'cancelled') continue;
      else if (o.state === 'packed' || o.state === 'shipped') answer('REFUSED', `order already ${o.state}`);
      else {
        for (const l of o.lines) {
          this.#stock[l.sku] = (this.#stock[l.sku] ?? 0) + l.picked;
          l.picked = 0;
        }
        o.state = 'cancelled';
        delete o.nextAt;
        this.#writeStock();
        answer('CANCELLED', r.reason || 'cancelled at the client\'s request');
      }
    }
  }

  #receiveAddress(rows: Record<string, string>[]): void {
    for (const r of rows) {
      const o = this.#orders.get(r.order_ref ?? '');
      if (!o || o.state === 'shipped' || o.state === 'cancelled') continue;
      o.shipTo = { name: r.ship_to_name ?? '', address1: r.ship_to_address1 ?? '', address2: r.ship_to_address2 ?? '', city: r.ship_to_city ?? '', state: r.ship_to_state ?? '', postalCode: r.ship_to_postal_code ?? '', country: r.ship_to_country ?? '' };
    }
  }

  #receiveLabels(rows: Record<string, string>[]): void {
    const r = rows[0]!;
    const o = this.#orders.get(r.order_ref ?? '');
    if (!o || o.state === 'cancelled' || o.state === 'shipped') return;
    o.labels = { carrier: r.carrier ?? '', service: r.service_level ?? '', master: r.master_tracking || r.tracking_number || '' };
    if (o.state === 'packed' && o.nextAt === undefined) o.nextAt = this.now() + (this.#o.shipSeconds ?? 600) * 1000;
  }

  /** Runs an order's due step. */
  #step(o: Order3pl): void {
    const t = this.now();
    delete o.nextAt;
    if (o.state === 'received') {
      const unknown = o.lines.filter((l) => !(l.sku in this.#stock)).map((l) => l.sku);
      o.state = unknown.length ? 'rejected' : 'accepted';
      this.#write(DIRS.fromWarehouse, 'ACK', o.ref, ['order_ref', 'client_order', 'wms_order_id', 'status', 'reason', 'event_time'], [
        { order_ref: o.ref, client_order: o.clientOrder, wms_order_id: o.wmsOrderId, status: unknown.length ? 'REJECTED' : 'ACCEPTED', reason: unknown.length ? `unknown SKU ${unknown.join(', ')}` : '', event_time: wireTime(t) },
      ]);
      if (!unknown.length) o.nextAt = t + (this.#o.pickSeconds ?? 300) * 1000;
    } else if (o.state === 'accepted') {
      for (const l of o.lines) {
        l.picked = Math.min(l.quantity, Math.max(0, this.#stock[l.sku] ?? 0));
        this.#stock[l.sku] = (this.#stock[l.sku] ?? 0) - l.picked;
      }
      this.#writeStock();
      this.#write(DIRS.fromWarehouse, 'PCK', o.ref, ['order_ref', 'client_order', 'wms_order_id', 'line_ref', 'sku', 'ordered_qty', 'picked_qty', 'uom', 'picked_at'],
        o.lines.map((l) => ({ order_ref: o.ref, client_order: o.clientOrder, wms_order_id: o.wmsOrderId, line_ref: l.lineRef, sku: l.sku, ordered_qty: l.quantity, picked_qty: l.picked, uom: l.uom, picked_at: wireTime(t) })),
      );
      if (o.lines.every((l) => l.picked === 0)) {
        o.state = 'cancelled';
        this.#write(DIRS.fromWarehouse, 'CXL', o.ref, ['order_ref', 'client_order', 'wms_order_id', 'status', 'reason', 'event_time'], [
          { order_ref: o.ref, client_order: o.clientOrder, wms_order_id: o.wmsOrderId, status: 'CANCELLED', reason: 'nothing in stock', event_time: wireTime(t) },
        ]);
      } else {
        o.state = 'picked';
        o.nextAt = t + (this.#o.packSeconds ?? 300) * 1000;
      }
    } else if (o.state === 'picked') {
      o.state = 'packed';
      o.packedAt = t;
      const units = o.lines.reduce((s, l) => s + l.picked, 0);
      const weight = Math.max(0.1, Math.round(units * 0.45 * 100) / 100);
      const s = o.shipTo;
      this.#write(DIRS.fromWarehouse, 'PAK', o.ref,
        ['order_ref', 'client_order', 'wms_order_id', 'package_id', 'weight_kg', 'length_cm', 'width_cm', 'height_cm', 'line_ref', 'sku', 'quantity', 'uom', 'ship_to_name', 'ship_to_address1', 'ship_to_address2', 'ship_to_city', 'ship_to_state', 'ship_to_postal_code', 'ship_to_country', 'packed_at'],
        o.lines.filter((l) => l.picked > 0).map((l) => ({
          order_ref: o.ref, client_order: o.clientOrder, wms_order_id: o.wmsOrderId, package_id: `${o.wmsOrderId}-1`, weight_kg: weight, length_cm: 40, width_cm: 30, height_cm: 20,
          line_ref: l.lineRef, sku: l.sku, quantity: l.picked, uom: l.uom,
          ship_to_name: s.name, ship_to_address1: s.address1, ship_to_address2: s.address2, ship_to_city: s.city, ship_to_state: s.state, ship_to_postal_code: s.postalCode, ship_to_country: s.country,
          packed_at: wireTime(t),
        })),
      );
      if (o.labels) o.nextAt = t + (this.#o.shipSeconds ?? 600) * 1000;
    } else if (o.state === 'packed') {
      o.state = 'shipped';
      const l = o.labels!;
      this.#write(DIRS.fromWarehouse, 'SHP', o.ref, ['order_ref', 'client_order', 'wms_order_id', 'carrier', 'service_level', 'tracking_number', 'shipped_at'], [
        { order_ref: o.ref, client_order: o.clientOrder, wms_order_id: o.wmsOrderId, carrier: l.carrier, service_level: l.service, tracking_number: l.master, shipped_at: wireTime(t) },
      ]);
    }
  }

  // ------------------------------------------------------------------------------ SSH and SFTP

  async #listen(): Promise<void> {
    const net = createServer((sock) => {
      if (this.#down) return void sock.destroy();
      sock.setNoDelay(true);
      this.#sockets.add(sock);
      sock.on('close', () => this.#sockets.delete(sock));
      sock.on('error', () => undefined);
      this.#ssh.injectSocket(sock);
    });
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(this.port, this.host, () => resolve());
    });
    this.port = (net.address() as AddressInfo).port;
    this.url = `sftp://${this.host}:${this.port}`;
    this.#net = net;
  }

  async #close(): Promise<void> {
    const net = this.#net;
    this.#net = undefined;
    for (const s of this.#sockets) s.destroy();
    if (net) await new Promise<void>((r) => net.close(() => r()));
  }

  #onConnection(client: Connection): void {
    this.#stats.connections++;
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && eq(ctx.username, this.username) && eq(ctx.password, this.password)) return ctx.accept();
      ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => this.#serveSftp(acceptSftp()));
      });
    });
  }

  #attrs(path: string): { mode: number; uid: number; gid: number; size: number; atime: number; mtime: number } | undefined {
    const f = this.#files.get(path);
    if (f) return { mode: 0o100644, uid: 1000, gid: 1000, size: f.data.length, atime: Math.floor(f.mtime / 1000), mtime: Math.floor(f.mtime / 1000) };
    if (this.#dirs.has(path)) return { mode: 0o040755, uid: 1000, gid: 1000, size: 4096, atime: 0, mtime: 0 };
    return undefined;
  }

  #serveSftp(sftp: SFTPWrapper): void {
    const handles = new Map<number, Handle>();
    let next = 0;
    const handleOf = (h: Buffer) => (h.length === 4 ? handles.get(h.readUInt32BE(0)) : undefined);
    const newHandle = (h: Handle) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(next, 0);
      handles.set(next++, h);
      return b;
    };
    sftp.on('OPEN', (id, filename, flags) => {
      const p = this.#norm(filename);
      const exists = this.#files.has(p);
      const write = (flags & OPEN_MODE.WRITE) !== 0;
      if (!this.#dirs.has(posix.dirname(p)) || this.#dirs.has(p)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      if (exists && flags & OPEN_MODE.EXCL) return sftp.status(id, STATUS_CODE.FAILURE, 'file exists');
      if (!exists && !(flags & OPEN_MODE.CREAT)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      if (!exists || flags & OPEN_MODE.TRUNC) this.#files.set(p, { data: Buffer.alloc(0), mtime: this.now() });
      sftp.handle(id, newHandle({ kind: 'file', path: p, write, written: false }));
    });
    sftp.on('WRITE', (id, handle, offset, data) => {
      const h = handleOf(handle);
      const f = h?.kind === 'file' && h.write ? this.#files.get(h.path) : undefined;
      if (!h || h.kind !== 'file' || !f) return sftp.status(id, STATUS_CODE.FAILURE);
      const end = offset + data.length;
      const buf = f.data.length >= end ? f.data : Buffer.concat([f.data, Buffer.alloc(end - f.data.length)]);
      data.copy(buf, offset);
      f.data = buf;
      f.mtime = this.now();
      h.written = true;
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('READ', (id, handle, offset, length) => {
      const h = handleOf(handle);
      const f = h?.kind === 'file' ? this.#files.get(h.path) : undefined;
      if (!f) return sftp.status(id, STATUS_CODE.FAILURE);
      if (offset >= f.data.length) return sftp.status(id, STATUS_CODE.EOF);
      sftp.data(id, f.data.subarray(offset, Math.min(f.data.length, offset + length)));
    });
    sftp.on('FSTAT', (id, handle) => {
      const h = handleOf(handle);
      const a = h ? this.#attrs(h.path) : undefined;
      if (!a) return sftp.status(id, STATUS_CODE.FAILURE);
      sftp.attrs(id, a);
    });
    sftp.on('CLOSE', (id, handle) => {
      const h = handleOf(handle);
      if (!h) return sftp.status(id, STATUS_CODE.FAILURE);
      handles.delete(handle.readUInt32BE(0));
      if (h.kind === 'file' && h.written && posix.dirname(h.path) === DIRS.toWarehouse && !h.path.endsWith('.tmp')) this.#stats.writtenInPlace.push(posix.basename(h.path));
      sftp.status(id, STATUS_CODE.OK);
    });
    const stat = (id: number, path: string) => {
      const a = this.#attrs(this.#norm(path));
      if (!a) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      sftp.attrs(id, a);
    };
    sftp.on('STAT', stat);
    sftp.on('LSTAT', stat);
    sftp.on('OPENDIR', (id, path) => {
      const p = this.#norm(path);
      if (!this.#dirs.has(p)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      sftp.handle(id, newHandle({ kind: 'dir', path: p, listed: false }));
    });
    sftp.on('READDIR', (id, handle) => {
      const h = handleOf(handle);
      if (!h || h.kind !== 'dir') return sftp.status(id, STATUS_CODE.FAILURE);
      if (h.listed) return sftp.status(id, STATUS_CODE.EOF);
      h.listed = true;
      const names = [...this.#files.keys(), ...this.#dirs].filter((p) => p !== h.path && posix.dirname(p) === h.path).sort();
      sftp.name(
        id,
        names.map((p) => {
          const a = this.#attrs(p)!;
          const dir = (a.mode & 0o170000) === 0o040000;
          return { filename: posix.basename(p), longname: `${dir ? 'd' : '-'}rw-r--r-- 1 3pl 3pl ${a.size} ${posix.basename(p)}`, attrs: a };
        }),
      );
    });
    sftp.on('REMOVE', (id, path) => {
      const p = this.#norm(path);
      if (!this.#files.delete(p)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('RENAME', (id, oldPath, newPath) => {
      const from = this.#norm(oldPath);
      const to = this.#norm(newPath);
      const f = this.#files.get(from);
      if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      if (!this.#dirs.has(posix.dirname(to))) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      // like OpenSSH's SSH_FXP_RENAME: never replaces an existing file
      if (this.#files.has(to) || this.#dirs.has(to)) return sftp.status(id, STATUS_CODE.FAILURE, 'target exists');
      this.#files.delete(from);
      this.#files.set(to, f);
      if (posix.dirname(to) === DIRS.toWarehouse) this.#stats.renamedIn.push(posix.basename(to));
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('MKDIR', (id, path) => {
      const p = this.#norm(path);
      if (this.#dirs.has(p) || this.#files.has(p)) return sftp.status(id, STATUS_CODE.FAILURE);
      if (!this.#dirs.has(posix.dirname(p))) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      this.#dirs.add(p);
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('REALPATH', (id, path) => {
      sftp.name(id, [{ filename: this.#norm(path), longname: this.#norm(path), attrs: {} as never }]);
    });
    for (const op of ['SETSTAT', 'FSETSTAT', 'RMDIR', 'READLINK', 'SYMLINK'] as const) sftp.on(op, (id: number) => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED));
  }

  // ------------------------------------------------------------------------------ faults, admin

  /** Sets faults; `down: true` cuts every connection and refuses new ones until `down: false`. */
  async setFaults(f: Sftp3plFaults): Promise<void> {
    if (f.down === undefined || f.down === this.#down) return;
    this.#down = f.down;
    if (f.down) await this.#close();
    else await this.#listen();
  }

  stats(): Sftp3plStats & { orders: { ref: string; state: OrderState; wmsOrderId: string }[]; stock: Record<string, number>; down: boolean; now: string } {
    return {
      ...structuredClone(this.#stats),
      orders: [...this.#orders.values()].map((o) => ({ ref: o.ref, state: o.state, wmsOrderId: o.wmsOrderId })),
      stock: { ...this.#stock },
      down: this.#down,
      now: new Date(this.now()).toISOString(),
    };
  }

  /** Forgets every file and order; stock back to the start. */
  reset(): void {
    this.#init();
  }

  async #adminRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sim');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const send = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    const json = (): Record<string, unknown> => {
      try {
        return body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    try {
      const route = `${req.method} ${u.pathname}`;
      if (route === 'GET /__sim/stats') return send(200, this.stats());
      if (route === 'POST /__sim/reset') return (this.reset(), send(200, { ok: true }));
      if (route === 'POST /__sim/faults') return (await this.setFaults(json() as Sftp3plFaults), send(200, { ok: true, down: this.#down }));
      if (route === 'POST /__sim/advance') return (this.advance(Number(json().seconds ?? 0)), send(200, { now: new Date(this.now()).toISOString() }));
      if (route === 'POST /__sim/stock') return (this.setStock(json() as Record<string, number>), send(200, { stock: this.#stock }));
      if (route === 'GET /__sim/files') {
        const path = u.searchParams.get('path');
        if (path) {
          const f = this.readFile(path);
          if (!f) return send(404, { error: { code: 'not_found', message: `no file ${path}` } });
          res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
          return void res.end(f);
        }
        return send(200, { files: this.listFiles(u.searchParams.get('dir') ?? DIRS.fromWarehouse) });
      }
      if (route === 'PUT /__sim/files') {
        const path = u.searchParams.get('path');
        if (!path) return send(400, { error: { code: 'bad_request', message: 'path is required' } });
        this.putFile(path, body);
        return send(201, { ok: true });
      }
      send(404, { error: { code: 'not_found', message: `no route ${route}` } });
    } catch (e) {
      send(400, { error: { code: 'bad_request', message: (e as Error).message } });
    }
  }

  async stop(): Promise<void> {
    this.#down = true;
    await this.#close();
    await this.#admin.stop();
  }
}
