/** What the HTTP layer needs from the running hub. */
import type pg from 'pg';
import type { HubConfig } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { BacklogMonitor } from '../pipeline/backlog.ts';
import type { IngestOutcome } from '../pipeline/inbox.ts';
import type { IncomingEvent } from '../pipeline/types.ts';
import type { Clock } from '../platform/clock.ts';
import type { Keyring } from '../security/keyring.ts';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

export interface ApiContext {
  pool: pg.Pool;
  config: HubConfig;
  log: Logger;
  metrics: Metrics;
  backlog: BacklogMonitor;
  instanceId: string;
  /** master keys that open stored secrets */
  keyring: Keyring;
  clock: Clock;
  /** stores a request's events durably (the hub passes its group committer); default: one transaction per request */
  ingest?: (events: IncomingEvent[]) => Promise<IngestOutcome[]>;
  /** hands an Odoo webhook payload to the tenant's running connector; false when none runs */
  odooHint?: (tenantId: string, payload: unknown) => Promise<boolean>;
  /** database reachable, migrations applied, workers running */
  readiness(): Promise<{ ready: boolean; checks: Record<string, ReadinessCheck> }>;
}
