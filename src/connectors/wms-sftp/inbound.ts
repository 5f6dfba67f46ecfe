/**
 * The inbound side of the SFTP warehouse connector: a poller that lists the 3PL's inbound
 * directory, downloads each complete file (files still carrying the temporary suffix are
 * left alone), parses it as CSV, maps its rows through the file profile into canonical
 * events and stores them in the inbox, then moves the file to the archive directory.
 *
 * Exactly once in effect: a file's events are stored in one transaction, with ids derived
 * from the file name and the row (system:file:line:index), so a poll that stops between
 * storing and moving (a crash, a lost connection) stores nothing twice when the file is
 * seen again. A file that cannot be parsed or mapped is moved to the error directory and
 * raises one exception record (hub_exceptions, code `wms-sftp.file_rejected`) naming the
 * file, the line and the column; none of its events is stored. A failure of the exchange
 * itself (server down, timeout) ends the poll with its TransientError; the next poll
 * starts over.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { eventFromStructured } from '../../api/cloudevents.ts';
import { HubError } from '../../domain/errors.ts';
import { ingest } from '../../pipeline/inbox.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import type { SftpTransport } from './client.ts';
import { CsvError, parseCsv } from './csv.ts';
import { compactTimestamp, FileMappingError, mapFile, type MappedEvent, type Overrides } from './mappers.ts';
import type { FileProfile } from './profile.ts';

export const FILE_REJECTED = 'wms-sftp.file_rejected';

export interface InboundPollerOptions {
  profile: FileProfile;
  transport: SftpTransport;
  pool: pg.Pool;
  clock: Clock;
  log?: Logger;
  remote: { inbound: string; archive: string; error: string };
  /** the warehouse this 3PL runs (names the exception keys; bound as $warehouseId) */
  warehouseId: string;
  tenantId?: string;
  tmpSuffix?: string;
  maxBytes?: number;
  /** overrides of the profile's constants */
  constants?: Overrides;
}

export interface FileOutcome {
  name: string;
  outcome: 'archived' | 'rejected';
  /** events stored by this poll (duplicates of an earlier poll not counted) */
  stored: number;
  /** events the file maps to */
  events: number;
  movedTo: string;
  error?: { code: string; message: string; line: number; column: number };
}

const join = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

/** A CloudEvents id within the 256-byte limit: the readable id, or a digest of it when too long. */
function eventId(id: string): string {
  return Buffer.byteLength(id) <= 200 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

export class InboundPoller {
  readonly #o: InboundPollerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(o: InboundPollerOptions) {
    this.#o = o;
  }

  get #constants(): Overrides {
    return { warehouseId: this.#o.warehouseId, ...this.#o.constants };
  }

  /** The exception key of a file: one per warehouse and file name. */
  exceptionKey(fileName: string): string {
    return `wms-sftp:${this.#o.warehouseId}:${fileName}`;
  }

  /**
   * One poll: every complete file of the inbound directory, oldest first (modification
   * time, then name). Throws the exchange's HubError when the
   * server cannot be listed or a transfer fails; files handled before stay handled.
   */
  async pollOnce(): Promise<FileOutcome[]> {
    const { transport, remote } = this.#o;
    const tmp = this.#o.tmpSuffix ?? '.tmp';
    // oldest first (the 3PL's order of events), then by name
    const entries = (await transport.list(remote.inbound))
      .filter((e) => e.isFile && !e.name.endsWith(tmp))
      .sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: FileOutcome[] = [];
    for (const e of entries) out.push(await this.#handle(e.name, e.size));
    return out;
  }

  async #handle(name: string, size: number): Promise<FileOutcome> {
    const { transport, remote, profile } = this.#o;
    const path = join(remote.inbound, name);
    const max = this.#o.maxBytes ?? 50 * 1024 * 1024;
    let events: IncomingEvent[];
    try {
      if (size > max) throw new FileMappingError({ file: name, line: 1, column: 1, message: `the file has ${size} bytes; at most ${max} are read (files.maxBytes)` });
      const data = await transport.get(path);
      const doc = parseCsv(data, name, { delimiter: profile.delimiter });
      const mapped = await mapFile(profile, doc, this.#constants);
      events = mapped.events.map((ev) => this.#incoming(name, ev));
    } catch (e) {
      if (e instanceof CsvError || e instanceof FileMappingError) return this.#reject(name, e);
      throw e;
    }
    const outcomes = await ingest(this.#o.pool, events);
    const stored = outcomes.filter((x) => !x.duplicate).length;
    const movedTo = await this.#move(name, remote.archive);
    this.#o.log?.info({ file: name, events: events.length, stored, movedTo }, 'inbound file stored and archived');
    return { name, outcome: 'archived', stored, events: events.length, movedTo };
  }

  /** A mapped event as an inbox event; a refusal of the event envelope is a mapping failure at its row. */
  #incoming(file: string, ev: MappedEvent): IncomingEvent {
    try {
      const e = eventFromStructured({ specversion: '1.0', id: eventId(ev.id), source: this.#o.profile.source, type: ev.type, data: ev.data }, { correlationId: `wms-sftp:${file}`.slice(0, 256) });
      e.tenantId = this.#o.tenantId ?? 'default';
      return e;
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      throw new FileMappingError({ file, line: ev.line, column: 1, message: `${err.code}: ${err.message}`, issues: err.issues, cause: err });
    }
  }

  /** Records the file's exception (once), then moves it to the error directory. */
  async #reject(name: string, e: CsvError | FileMappingError): Promise<FileOutcome> {
    const { remote } = this.#o;
    const message = `${remote.inbound === '/' ? '' : remote.inbound}/${name}:${e.line}:${e.column}: ${e.message.replace(`${name}:${e.line}:${e.column}: `, '')}`.slice(0, 2000);
    const details = { file: name, directory: remote.inbound, line: e.line, column: e.column, errorCode: e.code, profile: this.#o.profile.id, issues: e.issues.slice(0, 50) };
    await this.#o.pool.query(
      `insert into hub_exceptions (tenant_id, key, code, severity, message, details)
       select $1, $2, $3, 'error', $4, $5::jsonb
        where not exists (select 1 from hub_exceptions where tenant_id = $1 and key = $2 and code = $3 and status = 'open')`,
      [this.#o.tenantId ?? 'default', this.exceptionKey(name), FILE_REJECTED, message, JSON.stringify(details)],
    );
    const movedTo = await this.#move(name, remote.error);
    this.#o.log?.warn({ file: name, line: e.line, column: e.column, code: e.code, movedTo }, 'inbound file rejected');
    return { name, outcome: 'rejected', stored: 0, events: 0, movedTo, error: { code: e.code, message: e.message, line: e.line, column: e.column } };
  }

  /** Moves an inbound file into `dir`; a name already taken there gets a timestamp suffix. */
  async #move(name: string, dir: string): Promise<string> {
    const { transport, remote } = this.#o;
    const from = join(remote.inbound, name);
    let to = join(dir, name);
    for (let n = 0; ; n++) {
      try {
        await transport.rename(from, to);
        return to;
      } catch (e) {
        if (n >= 3 || !(e instanceof HubError) || !(await transport.exists(to))) throw e;
        to = join(dir, `${name}.${compactTimestamp(this.#o.clock.now())}${n ? `-${n}` : ''}`);
      }
    }
  }

  /** Polls every `intervalMs` until stop(); a failed poll is logged and the next one tries again. */
  start(intervalMs: number): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = () => {
      this.#running = this.pollOnce()
        .catch((e: unknown) => this.#o.log?.warn({ err: e }, 'polling the 3PL inbound directory failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** Stops polling; resolves when the poll in progress, if any, is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
