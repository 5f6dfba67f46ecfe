/**
 * The UPS carrier adapter (Track API v1): `track` only, plus the pure `mapTrackAlert` for Track
 * Alert pushes. Wires the client (the network) to the pure mappers; one TrackResult per
 * requested number, in the order asked.
 */
import { ConfigError } from '../../domain/errors.ts';
import { isKnownZone } from '../../domain/tracking.ts';
import type { Clock } from '../../platform/clock.ts';
import type { CarrierPort, TrackResult } from '../carrier-port.ts';
import { createUpsClient, type UpsClientOptions } from './client.ts';
import type { UpsConfig } from './manifest.ts';
import { mapUpsTrackResponse } from './mappers.ts';

export { upsManifest, UpsConfigSchema, type UpsConfig } from './manifest.ts';
export { UPS_STATUS_TABLE, UPS_STATUS_TYPE_TABLE, mapTrackAlert, mapUpsTrackResponse } from './mappers.ts';
export { UPS_ERROR_TABLE, UPS_ERROR_CODES } from './errors.ts';
export { UPS_MAX_NUMBERS_PER_REQUEST } from './client.ts';

export interface UpsCarrierOptions extends UpsConfig {
  /** the OAuth client secret, or a function reading it from the secret store (read for every new token) */
  clientSecret: string | (() => string | Promise<string>);
  clock?: Clock;
  fetch?: typeof fetch;
}

/** Creates the UPS carrier adapter. Throws ConfigError for a default zone the runtime does not know. */
export function createUpsCarrier(config: UpsCarrierOptions): CarrierPort {
  if (!isKnownZone(config.defaultTimeZone)) throw new ConfigError('defaultTimeZone', `unknown IANA time zone ${JSON.stringify(config.defaultTimeZone)}`);
  const opts: UpsClientOptions = {
    baseUrl: config.baseUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    transactionSrc: config.transactionSrc,
    locale: config.locale,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
  };
  if (config.merchantId) opts.merchantId = config.merchantId;
  if (config.clock) opts.clock = config.clock;
  if (config.fetch) opts.fetch = config.fetch;
  const client = createUpsClient(opts);
  return {
    id: 'ups',
    async track(trackingNumbers: string[]): Promise<TrackResult[]> {
      const lookups = await client.track(trackingNumbers);
      return lookups.map((l) => mapUpsTrackResponse(l.inquiryNumber, l.body, config.defaultTimeZone));
    },
  };
}
