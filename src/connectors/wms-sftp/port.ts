/**
 * The warehouse port (src/connectors/wms-port.ts) over CSV files on a 3PL's SFTP server: each
 * call of the workflow becomes one file in the outbound directory, named and filled by the
 * file profile, written atomically (`<name>.tmp`, then renamed). The file name carries the
 * shipment id, so the same call twice finds its file there and writes nothing: idempotent
 * by shipment id. The 3PL's order reference is the hub's shipment id; the 3PL's own order
 * number comes back in its acknowledgement.
 *
 * A file exchange has no synchronous answer: `cancel`, `updateShipTo` and `attachLabels`
 * answer ok once the request file is delivered; the 3PL's decision arrives later as a
 * status file (a cancellation refused once packed, say) through the inbound poller.
 * Inventory is read from the latest stock snapshot file the 3PL leaves in the stock directory.
 */
import { BusinessError, ValidationError } from '../../domain/errors.ts';
import type { PartyAddress } from '../../domain/primitives.ts';
import type { Clock } from '../../platform/clock.ts';
import type { WmsAnswer, WmsLabels, WmsOrderRef, WmsPort, WmsRelease } from '../wms-port.ts';
import type { SftpTransport } from './client.ts';
import { parseCsv, type CsvWriteOptions } from './csv.ts';
import { buildFile, mapStock, type Overrides } from './mappers.ts';
import type { FileOperation, FileProfile } from './profile.ts';

export interface SftpPortOptions {
  warehouseId: string;
  profile: FileProfile;
  transport: SftpTransport;
  clock: Clock;
  remote: { outbound: string; stock: string };
  tmpSuffix?: string;
  csv?: CsvWriteOptions;
  /** overrides of the profile's constants */
  constants?: Overrides;
}

/** What a written request file was: its remote path and whether this call wrote it. */
export interface WrittenFile {
  path: string;
  written: boolean;
}

const join = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

function need(input: Record<string, unknown>, fields: string[], what: string): void {
  const missing = fields.filter((f) => typeof input[f] !== 'string' || input[f] === '');
  if (missing.length) throw new ValidationError('wms-sftp.invalid_input', `${what} needs ${missing.join(', ')}`, missing.map((f) => ({ path: `/${f}`, message: 'is required' })));
}

/** The SFTP file port, with `lastFile` for tests and logs. */
export class SftpWmsPort implements WmsPort {
  readonly warehouseId: string;
  readonly #o: SftpPortOptions;
  /** the file the last call wrote or found */
  lastFile: WrittenFile | undefined;

  constructor(o: SftpPortOptions) {
    this.#o = o;
    this.warehouseId = o.warehouseId;
  }

  get #constants(): Overrides {
    return { warehouseId: this.warehouseId, ...this.#o.constants };
  }

  /** Builds the operation's file and puts it atomically unless it is already there. */
  async #send(operation: FileOperation, input: Record<string, unknown>): Promise<WrittenFile> {
    const f = await buildFile(this.#o.profile, operation, input, { now: this.#o.clock.now(), overrides: this.#constants, ...(this.#o.csv ? { csv: this.#o.csv } : {}) });
    const path = join(this.#o.remote.outbound, f.name);
    const r = await this.#o.transport.putAtomic(path, f.content, this.#o.tmpSuffix ?? '.tmp');
    this.lastFile = { path, written: r === 'written' };
    return this.lastFile;
  }

  #ref(ref: WmsOrderRef): Record<string, unknown> {
    const o = { shipmentId: ref.shipmentId, orderId: ref.orderId, fulfilmentRequestId: ref.fulfilmentRequestId, wmsOrderId: ref.wmsOrderId };
    need(o, ['shipmentId', 'orderId'], 'a request about an order');
    return o;
  }

  async release(r: WmsRelease): Promise<{ wmsOrderId: string }> {
    const input = { ...r, warehouseId: this.warehouseId, requestedAt: this.#o.clock.now().toISOString() } as Record<string, unknown>;
    need(input, ['shipmentId', 'orderId', 'fulfilmentRequestId'], 'a release');
    if (!Array.isArray(r.lines) || r.lines.length === 0) throw new ValidationError('wms-sftp.invalid_input', 'a release needs at least one line', [{ path: '/lines', message: 'must not be empty' }]);
    await this.#send('release', input);
    return { wmsOrderId: r.shipmentId };
  }

  async cancel(ref: WmsOrderRef, reason?: string): Promise<WmsAnswer> {
    await this.#send('cancel', { ...this.#ref(ref), ...(reason ? { reason } : {}), requestedAt: this.#o.clock.now().toISOString() });
    return { ok: true };
  }

  async updateShipTo(ref: WmsOrderRef, shipTo: PartyAddress): Promise<WmsAnswer> {
    await this.#send('updateShipTo', { ...this.#ref(ref), shipTo, requestedAt: this.#o.clock.now().toISOString() });
    return { ok: true };
  }

  async attachLabels(ref: WmsOrderRef, l: WmsLabels): Promise<WmsAnswer> {
    await this.#send('attachLabels', {
      ...this.#ref(ref),
      carrier: l.carrier,
      service: l.service,
      masterTrackingNumber: l.masterTrackingNumber,
      pieces: l.pieces.map((p) => ({ packageId: p.packageId, trackingNumber: p.trackingNumber, format: p.label.format, labelUri: p.labelUri })),
      requestedAt: this.#o.clock.now().toISOString(),
    });
    return { ok: true };
  }

  async inventory(skus: string[]): Promise<Record<string, number>> {
    const inv = this.#o.profile.inventory;
    const out: Record<string, number> = Object.fromEntries(skus.map((s) => [s, 0]));
    if (!inv) throw new BusinessError({ code: 'wms-sftp.operation_unsupported', message: `the file profile ${this.#o.profile.id} (${this.#o.profile.file}) does not describe stock files (inventory)` });
    const names = (await this.#o.transport.list(this.#o.remote.stock)).filter((e) => e.isFile && inv.pattern.test(e.name)).map((e) => e.name).sort();
    const latest = names.at(-1);
    if (!latest) return out;
    const data = await this.#o.transport.get(join(this.#o.remote.stock, latest));
    const stock = await mapStock(this.#o.profile, parseCsv(data, latest, { delimiter: this.#o.profile.delimiter }), this.#constants);
    for (const s of skus) out[s] = Math.max(0, stock[s] ?? 0);
    return out;
  }
}
