/**
 * The DHL carrier adapter (Shipment Tracking – Unified): `track` only. Wires the client (the
 * network) to the pure mappers; one TrackResult per requested number, in the order asked.
 */
import { ConfigError } from '../../domain/errors.ts';
import { isKnownZone } from '../../domain/tracking.ts';
import type { Clock } from '../../platform/clock.ts';
import type { CarrierPort, TrackResult } from '../carrier-port.ts';
import { createDhlClient } from './client.ts';
import type { DhlConfig } from './manifest.ts';
import { mapDhlLookup } from './mappers.ts';

export { dhlManifest, DhlConfigSchema, type DhlConfig } from './manifest.ts';
export { DHL_STATUS_TABLE } from './mappers.ts';
export { DHL_ERROR_TABLE } from './errors.ts';

export interface DhlCarrierOptions extends DhlConfig {
  /** the DHL-API-Key, or a function reading it from the secret store (re-read once after a 401) */
  apiKey: string | (() => string | Promise<string>);
  clock?: Clock;
}

/** Creates the DHL carrier adapter. Throws ConfigError for a default zone the runtime does not know. */
export function createDhlCarrier(config: DhlCarrierOptions): CarrierPort {
  if (!isKnownZone(config.defaultTimeZone)) throw new ConfigError('defaultTimeZone', `unknown IANA time zone ${JSON.stringify(config.defaultTimeZone)}`);
  const opts: Parameters<typeof createDhlClient>[0] = {
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    service: config.service,
    language: config.language,
    requesterCountryCode: config.requesterCountryCode,
  };
  if (config.clock) opts.clock = config.clock;
  const client = createDhlClient(opts);
  return {
    id: 'dhl',
    async track(trackingNumbers: string[]): Promise<TrackResult[]> {
      const lookups = await client.track(trackingNumbers);
      return lookups.map((l) => mapDhlLookup(l, config.defaultTimeZone));
    },
  };
}
