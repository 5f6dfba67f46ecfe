/**
 * The EasyPost carrier adapter: the carrier port (rate, book, cancel, track, manifest) over
 * EasyPost API v2, through the client in client.ts and the pure mappings in mappers.ts.
 *
 * - rate: one parcel → a Shipment (POST /v2/shipments), several → an Order (POST /v2/orders,
 *   one shipment per parcel); every Rate becomes a RateQuote whose quoteRef names the shipment
 *   and rate (or the order, carrier and service) to buy. The hub's shipment id is sent as the
 *   EasyPost `reference`, each parcel's packageId as its order shipment's reference.
 * - book: idempotent by construction. An EasyPost shipment carries at most one label (a second
 *   buy answers SHIPMENT.POSTAGE.EXISTS), so book first re-reads the shipment (or order) and
 *   only buys when it has no postage; after a buy whose answer was lost (socket closed,
 *   timeout) or a SHIPMENT.POSTAGE.EXISTS it re-reads again and returns the label found. The
 *   same quote booked twice (same idempotencyKey after a lost answer, or any retry) therefore
 *   yields one label. Labels are converted (GET /v2/shipments/:id/label?file_format=) when the
 *   format asked for is missing, downloaded and checked (PDF starts with %PDF, ZPL with ^XA).
 * - cancel: POST /v2/shipments/:id/refund; a second refund (SHIPMENT.REFUND.UNAVAILABLE) on a
 *   shipment whose refund_status is submitted / refunded is answered as already voided.
 * - track: POST /v2/trackers per number (EasyPost returns the existing Tracker for a known code).
 * - manifest: POST /v2/scan_forms; shipments already on one SCAN form return that form.
 */
import { BusinessError, HubError, PermanentError, ValidationError } from '../../domain/errors.ts';
import type { Weight } from '../../domain/primitives.ts';
import type { BookedPiece, BookRequest, Booking, CancelResult, CarrierPort, LabelFormat, ManifestResult, RateQuote, RateRequest, ServiceLevel, TrackResult } from '../carrier-port.ts';
import { createEasyPostClient, type EasyPostClient } from './client.ts';
import { easyPostCodeOf, easyPostError, isTransportFailure } from './errors.ts';
import type { EasyPostConfig } from './manifest.ts';
import {
  MalformedTrackerError,
  billablePounds,
  decodeQuoteRef,
  encodeQuoteRef,
  isTracker,
  rateToQuote,
  sumAmounts,
  toEasyPostAddress,
  toEasyPostParcel,
  trackerToTrackResult,
  type EpRate,
} from './mappers.ts';

export { easyPostManifest, EasyPostConfigSchema, type EasyPostConfig } from './manifest.ts';
export { verifyEasyPostSignature, mapEasyPostEvent, signEasyPostWebhook } from './webhook.ts';
export { EASYPOST_ERROR_TABLE } from './errors.ts';

export interface EasyPostCarrierConfig extends Partial<Omit<EasyPostConfig, 'secretName' | 'webhookSecretName'>> {
  /** the API key (resolved from the stored secret `secretName`) */
  apiKey: string;
  /** a ready client (tests); built from baseUrl / apiKey / timeoutMs otherwise */
  client?: EasyPostClient;
}

type Json = Record<string, unknown>;

const malformed = (message: string, cause?: unknown) => easyPostError({ source: 'protocol', message }, cause);

function expectObject(v: unknown, object: string, what: string): Json {
  if (!v || typeof v !== 'object' || (v as Json).object !== object || typeof (v as Json).id !== 'string') throw malformed(`${what}: expected an EasyPost ${object}`);
  return v as Json;
}

function rates(v: unknown, what: string): EpRate[] {
  if (!Array.isArray(v)) throw malformed(`${what}: rates is not an array`);
  return v.filter((r): r is EpRate => !!r && typeof r === 'object' && typeof r.id === 'string' && typeof r.carrier === 'string' && typeof r.service === 'string' && typeof r.rate === 'string');
}

function rateMessages(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((m) => (m && typeof m === 'object' && typeof (m as Json).message === 'string' ? [`${(m as Json).carrier ?? '?'}: ${(m as Json).message}`] : []));
}

const MAGIC: Record<LabelFormat, (b: Buffer) => boolean> = {
  PDF: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  ZPL: (b) => b.toString('latin1', 0, 64).trimStart().startsWith('^XA'),
};

/** The EasyPost adapter (`id: 'easypost'`). */
export function createEasyPostCarrier(config: EasyPostCarrierConfig): CarrierPort {
  if (!config.apiKey) throw new ValidationError('easypost.config', 'apiKey is required');
  const client = config.client ?? createEasyPostClient({ baseUrl: config.baseUrl ?? 'https://api.easypost.com', apiKey: config.apiKey, timeoutMs: config.timeoutMs ?? 30_000 });
  const defaultFormat: LabelFormat = config.labelFormat ?? 'PDF';
  const overrides = (config.serviceLevels ?? {}) as Record<string, ServiceLevel>;

  const getShipment = async (id: string) => expectObject(await client.get(`/v2/shipments/${encodeURIComponent(id)}`), 'Shipment', `shipment ${id}`);
  const getOrder = async (id: string) => expectObject(await client.get(`/v2/orders/${encodeURIComponent(id)}`), 'Order', `order ${id}`);

  function validateRequest(req: RateRequest): void {
    const issues = [];
    if (!req.parcels.length) issues.push({ path: '/parcels', message: 'at least one parcel is required' });
    const ids = new Set<string>();
    req.parcels.forEach((p, i) => {
      if (ids.has(p.packageId)) issues.push({ path: `/parcels/${i}/packageId`, message: 'must be unique' });
      ids.add(p.packageId);
      if (!(p.weight.value > 0)) issues.push({ path: `/parcels/${i}/weight`, message: 'must be greater than 0' });
    });
    if (issues.length) throw new ValidationError('easypost.invalid_request', 'the rate request cannot be sent to EasyPost', issues);
  }

  const commonOptions = (req: RateRequest) => ({
    label_format: defaultFormat,
    ...(req.shipDate ? { label_date: `${req.shipDate}T12:00:00Z` } : {}),
  });

  async function rate(req: RateRequest): Promise<RateQuote[]> {
    validateRequest(req);
    const to_address = toEasyPostAddress(req.to);
    const from_address = toEasyPostAddress(req.from);
    const accounts = config.carrierAccounts?.length ? { carrier_accounts: config.carrierAccounts } : {};
    const pounds = req.parcels.reduce((s, p) => s + billablePounds(p), 0);
    const billable: Weight = { value: pounds, unit: 'lb' };
    let list: EpRate[];
    let messages: string[];
    let ref: (r: EpRate) => string;
    if (req.parcels.length === 1) {
      const s = expectObject(
        await client.post('/v2/shipments', {
          shipment: { reference: req.shipmentId, to_address, from_address, parcel: toEasyPostParcel(req.parcels[0]!), options: commonOptions(req), ...accounts },
        }),
        'Shipment',
        'POST /v2/shipments',
      );
      list = rates(s.rates, 'shipment');
      messages = rateMessages(s.messages);
      ref = (r) => encodeQuoteRef({ kind: 'shipment', shipmentId: String(s.id), rateId: r.id });
    } else {
      const o = expectObject(
        await client.post('/v2/orders', {
          order: {
            reference: req.shipmentId,
            to_address,
            from_address,
            shipments: req.parcels.map((p) => ({ reference: p.packageId, parcel: toEasyPostParcel(p) })),
            options: commonOptions(req),
            ...accounts,
          },
        }),
        'Order',
        'POST /v2/orders',
      );
      list = rates(o.rates, 'order');
      messages = rateMessages(o.messages);
      ref = (r) => encodeQuoteRef({ kind: 'order', orderId: String(o.id), carrier: r.carrier, service: r.service });
    }
    const quotes = list.flatMap((r) => rateToQuote(r, ref(r), billable, overrides) ?? []);
    if (!quotes.length && messages.length) {
      throw new BusinessError({ code: 'easypost.no_rates', message: `no carrier returned a rate: ${[...new Set(messages)].join('; ')}` });
    }
    return quotes;
  }

  /** The label of a bought shipment in `format`, converted when missing, downloaded and checked. */
  async function labelOf(s: Json, format: LabelFormat): Promise<{ shipment: Json; contentBase64: string }> {
    const urlOf = (x: Json) => {
      const pl = x.postage_label as Json | null;
      if (!pl || typeof pl !== 'object') return undefined;
      const u = format === 'PDF' ? pl.label_pdf_url : pl.label_zpl_url;
      if (typeof u === 'string' && u) return u;
      const type = format === 'PDF' ? 'application/pdf' : 'application/zpl';
      return pl.label_file_type === type && typeof pl.label_url === 'string' ? pl.label_url : undefined;
    };
    let shipment = s;
    let url = urlOf(shipment);
    if (!url) {
      shipment = expectObject(await client.get(`/v2/shipments/${encodeURIComponent(String(s.id))}/label`, { file_format: format }), 'Shipment', 'label conversion');
      url = urlOf(shipment);
      if (!url) throw malformed(`shipment ${String(s.id)}: no ${format} label URL after conversion`);
    }
    const file = await client.download(url);
    if (!MAGIC[format](file.body)) throw malformed(`shipment ${String(s.id)}: the ${format} label downloaded from ${url} is not a ${format} file`);
    return { shipment, contentBase64: file.body.toString('base64') };
  }

  function refundedGuard(s: Json): void {
    if (s.refund_status) {
      throw new BusinessError({ code: 'easypost.label_refunded', message: `shipment ${String(s.id)} was bought and then refunded (${String(s.refund_status)}); rate again for a new label` });
    }
  }

  async function pieceOf(s: Json, packageId: string, format: LabelFormat): Promise<BookedPiece & { charged: string; currency: string; carrier: string; service: string }> {
    refundedGuard(s);
    const rate = s.selected_rate as Json | null;
    if (typeof s.tracking_code !== 'string' || !rate || typeof rate.rate !== 'string') throw malformed(`shipment ${String(s.id)}: bought without tracking_code or selected_rate`);
    const label = await labelOf(s, format);
    return {
      packageId,
      trackingNumber: s.tracking_code,
      label: { format, contentBase64: label.contentBase64 },
      charged: rate.rate,
      currency: String(rate.currency ?? 'USD'),
      carrier: String(rate.carrier),
      service: String(rate.service),
    };
  }

  /** Buys (once) then re-reads when the answer was lost or the purchase already exists. */
  async function buyOnce<T extends Json>(read: () => Promise<T>, bought: (x: T) => boolean, buy: () => Promise<unknown>): Promise<T> {
    const before = await read();
    if (bought(before)) return before;
    try {
      await buy();
    } catch (e) {
      if (!(isTransportFailure(e) || easyPostCodeOf(e) === 'SHIPMENT.POSTAGE.EXISTS' || easyPostCodeOf(e) === 'SHIPMENT.PURCHASE.IN_PROGRESS')) throw e;
      let after: T;
      try {
        after = await read();
      } catch {
        throw e;
      }
      if (!bought(after)) throw e;
      return after;
    }
    return read();
  }

  async function book(req: BookRequest): Promise<Booking> {
    const ref = decodeQuoteRef(req.quote.quoteRef);
    if (!ref) throw new ValidationError('easypost.invalid_quote', `quoteRef ${JSON.stringify(req.quote.quoteRef)} is not an EasyPost quote reference`);
    const format = req.labelFormat;
    if (ref.kind === 'shipment') {
      const s = await buyOnce(
        () => getShipment(ref.shipmentId),
        (x) => !!x.postage_label,
        () => client.post(`/v2/shipments/${encodeURIComponent(ref.shipmentId)}/buy`, { rate: { id: ref.rateId } }),
      );
      const piece = await pieceOf(s, req.request.parcels[0]?.packageId ?? String(s.id), format);
      return {
        carrier: 'easypost',
        carrierAccount: piece.carrier,
        service: piece.service,
        bookingRef: String(s.id),
        masterTrackingNumber: piece.trackingNumber,
        pieces: [{ packageId: piece.packageId, trackingNumber: piece.trackingNumber, label: piece.label }],
        charged: { amount: sumAmounts([piece.charged]), currency: piece.currency },
      };
    }
    const shipmentsOf = (o: Json) => (Array.isArray(o.shipments) ? (o.shipments as Json[]) : []);
    const o = await buyOnce(
      () => getOrder(ref.orderId),
      (x) => {
        const list = shipmentsOf(x);
        const n = list.filter((s) => s.postage_label).length;
        if (n > 0 && n < list.length) throw new PermanentError({ code: 'easypost.order_partially_bought', message: `order ${ref.orderId}: ${n} of ${list.length} shipments have postage` });
        return list.length > 0 && n === list.length;
      },
      () => client.post(`/v2/orders/${encodeURIComponent(ref.orderId)}/buy`, { carrier: ref.carrier, service: ref.service }),
    );
    const list = shipmentsOf(o);
    const parcels = req.request.parcels;
    const pieces = [];
    for (const [i, s] of list.entries()) {
      const packageId = parcels.find((p) => p.packageId === s.reference)?.packageId ?? parcels[i]?.packageId ?? String(s.id);
      pieces.push(await pieceOf(expectObject(s, 'Shipment', `order ${ref.orderId} shipment ${i}`), packageId, format));
    }
    if (!pieces.length) throw malformed(`order ${ref.orderId} has no shipments`);
    return {
      carrier: 'easypost',
      carrierAccount: pieces[0]!.carrier,
      service: pieces[0]!.service,
      bookingRef: String(o.id),
      masterTrackingNumber: pieces[0]!.trackingNumber,
      pieces: pieces.map((p) => ({ packageId: p.packageId, trackingNumber: p.trackingNumber, label: p.label })),
      charged: { amount: sumAmounts(pieces.map((p) => p.charged)), currency: pieces[0]!.currency },
    };
  }

  const VOIDED = new Set(['submitted', 'refunded']);

  async function refundShipment(id: string): Promise<string> {
    try {
      const s = expectObject(await client.post(`/v2/shipments/${encodeURIComponent(id)}/refund`, {}), 'Shipment', `refund ${id}`);
      return String(s.refund_status ?? 'submitted');
    } catch (e) {
      if (!(isTransportFailure(e) || easyPostCodeOf(e) === 'SHIPMENT.REFUND.UNAVAILABLE')) throw e;
      let s: Json;
      try {
        s = await getShipment(id);
      } catch {
        throw e;
      }
      if (typeof s.refund_status === 'string' && VOIDED.has(s.refund_status)) return s.refund_status;
      if (s.refund_status === 'rejected') throw new BusinessError({ code: 'easypost.refund_rejected', message: `the carrier rejected the refund of shipment ${id}` });
      throw e;
    }
  }

  async function cancel(bookingRef: string): Promise<CancelResult> {
    if (bookingRef.startsWith('order_')) {
      const o = await getOrder(bookingRef);
      const statuses: string[] = [];
      for (const s of Array.isArray(o.shipments) ? (o.shipments as Json[]) : []) statuses.push(await refundShipment(String(s.id)));
      return { voided: true, carrierStatus: [...new Set(statuses)].join(',') || 'submitted' };
    }
    if (!bookingRef.startsWith('shp_')) throw new ValidationError('easypost.invalid_booking', `bookingRef ${JSON.stringify(bookingRef)} is not an EasyPost shipment or order id`);
    return { voided: true, carrierStatus: await refundShipment(bookingRef) };
  }

  async function track(trackingNumbers: string[]): Promise<TrackResult[]> {
    const out: TrackResult[] = [];
    for (const code of trackingNumbers) {
      let t: unknown;
      try {
        t = await client.post('/v2/trackers', { tracker: { tracking_code: code } });
      } catch (e) {
        // EasyPost refuses to track the number (no carrier knows its format): not found, not an error
        if (e instanceof HubError && e.code === 'easypost.tracker_refused') {
          out.push({ trackingNumber: code, scans: [], notFound: true });
          continue;
        }
        throw e;
      }
      if (!isTracker(t)) throw malformed(`POST /v2/trackers for ${code}: expected a Tracker`);
      try {
        out.push(trackerToTrackResult(t));
      } catch (e) {
        if (e instanceof MalformedTrackerError) throw malformed(`tracker ${code}: ${e.message}`, e);
        throw e;
      }
    }
    return out;
  }

  async function manifest(bookingRefs: string[], _shipDate: string): Promise<ManifestResult> {
    if (!bookingRefs.length) throw new ValidationError('easypost.invalid_request', 'manifest needs at least one booking');
    const ids: string[] = [];
    for (const ref of bookingRefs) {
      if (ref.startsWith('order_')) {
        const o = await getOrder(ref);
        for (const s of Array.isArray(o.shipments) ? (o.shipments as Json[]) : []) ids.push(String(s.id));
      } else ids.push(ref);
    }
    const shipments = [];
    for (const id of ids) shipments.push(await getShipment(id));
    const forms = new Set(shipments.map((s) => (s.scan_form && typeof s.scan_form === 'object' ? String((s.scan_form as Json).id) : '')));
    let sf: Json;
    if (forms.size === 1 && !forms.has('')) {
      sf = shipments[0]!.scan_form as Json; // already manifested together: the same form again
    } else {
      sf = expectObject(await client.post('/v2/scan_forms', { shipments: ids.map((id) => ({ id })) }), 'ScanForm', 'POST /v2/scan_forms');
    }
    const result: ManifestResult = { manifestRef: String(sf.id), bookingRefs };
    if (typeof sf.form_url === 'string' && sf.form_url) {
      const file = await client.download(sf.form_url);
      if (!MAGIC.PDF(file.body)) throw malformed(`scan form ${String(sf.id)}: the form is not a PDF`);
      result.documentBase64 = file.body.toString('base64');
    }
    return result;
  }

  return { id: 'easypost', rate, book, cancel, track, manifest };
}
