/**
 * The FedEx carrier adapter: CarrierPort `track` over the Track API v1. Configuration is
 * checked and completed with its defaults here; the network is ./client.ts, the mapping
 * ./mappers.ts, the failures ./errors.ts.
 */
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../domain/errors.ts';
import { isKnownZone } from '../../domain/tracking.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import type { CarrierPort, TrackResult } from '../carrier-port.ts';
import { FedexClient, type FedexTransport } from './client.ts';
import { fedexError } from './errors.ts';
import { FedexConfigSchema, type FedexConfig } from './manifest.ts';
import { mapAssociatedResponse, mapTrackingNumbersResponse, type MappedPackage } from './mappers.ts';

export { fedexManifest, FedexConfigSchema, type FedexConfig } from './manifest.ts';

/** The configuration (defaults may be left out) plus what is not configuration: the secret and the clock. */
export type FedexCarrierOptions = Partial<FedexConfig> &
  Pick<FedexConfig, 'clientId' | 'secretName'> & {
    /** the OAuth client secret, read from the stored secret `secretName` */
    clientSecret: string;
    clock?: Clock;
    /** replaces the HTTP client (tests of the adapter logic) */
    transport?: FedexTransport;
  };

const TRACKING_NUMBER = /^[0-9A-Za-z]{1,40}$/;

/** Checks the configuration and fills in its defaults; a ConfigError names the bad key. */
export function resolveFedexConfig(input: unknown): FedexConfig {
  const withDefaults = Value.Default(FedexConfigSchema, structuredClone(input ?? {}));
  const first = [...Value.Errors(FedexConfigSchema, withDefaults)][0];
  if (first) throw new ConfigError(first.path.replace(/^\//, '').replace(/\//g, '.') || 'fedex', first.message);
  const cfg = withDefaults as FedexConfig;
  if (!isKnownZone(cfg.assumedTimeZone)) throw new ConfigError('assumedTimeZone', `${JSON.stringify(cfg.assumedTimeZone)} is not an IANA time zone`);
  return cfg;
}

/** Builds the FedEx CarrierPort (`id: 'fedex'`, `track`). */
export function createFedexCarrier(options: FedexCarrierOptions): CarrierPort {
  const { clientSecret, clock, transport, ...rest } = options;
  const cfg = resolveFedexConfig(rest);
  if (typeof clientSecret !== 'string' || clientSecret === '') throw new ConfigError('secretName', `the stored secret ${JSON.stringify(cfg.secretName)} is empty`);
  const net: FedexTransport =
    transport ??
    new FedexClient({
      baseUrl: cfg.baseUrl,
      clientId: cfg.clientId,
      clientSecret,
      timeoutMs: cfg.timeoutMs,
      batchSize: cfg.batchSize,
      locale: cfg.locale,
      tokenRefreshMarginSeconds: cfg.tokenRefreshMarginSeconds,
      clock: clock ?? systemClock,
    });
  const mapOpts = { assumedTimeZone: cfg.assumedTimeZone };

  return {
    id: 'fedex',
    async track(trackingNumbers: string[]): Promise<TrackResult[]> {
      if (!Array.isArray(trackingNumbers)) throw fedexError({ source: 'client', message: 'track takes an array of tracking numbers' });
      const wanted = trackingNumbers.map((n, i) => {
        const t = typeof n === 'string' ? n.trim() : '';
        if (!TRACKING_NUMBER.test(t)) {
          throw fedexError({ source: 'client', message: `tracking number #${i} ${JSON.stringify(n)} is not 1 to 40 letters or digits` });
        }
        return t;
      });
      const unique = [...new Set(wanted)];
      if (unique.length === 0) return [];
      // everything is read before anything is returned: a failure leaves no partial result
      const packages = new Map<string, MappedPackage>();
      for (const body of await net.trackNumbers(unique)) {
        for (const p of mapTrackingNumbersResponse(body, mapOpts)) packages.set(p.trackingNumber, p);
      }
      const results = new Map<string, TrackResult>();
      for (const n of unique) {
        const p = packages.get(n);
        if (!p || p.notFound) {
          results.set(n, { trackingNumber: n, scans: [], notFound: true });
          continue;
        }
        const scans = [...p.scans];
        if (cfg.trackPieces && p.hasAssociatedShipments) scans.push(...mapAssociatedResponse(await net.trackAssociated(n), n, mapOpts));
        results.set(n, { trackingNumber: n, scans });
      }
      return wanted.map((n) => results.get(n)!);
    },
  };
}
