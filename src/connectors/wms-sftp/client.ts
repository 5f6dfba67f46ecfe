/**
 * The SFTP client of the file-exchange warehouse connector: the only code of the connector
 * that touches the network. Each operation of the port is one counted, traced partner call
 * (connectors/http.ts partnerCall). One SSH connection with one SFTP session, opened on first use
 * and opened again after it is lost; the server's host key must match the pinned SHA-256
 * fingerprint or nothing is sent. Every request has a timeout. Failures become HubErrors by
 * the error table (errors.ts).
 *
 * Writes are atomic for the reader on the other side: the content goes to `<name><tmpSuffix>`
 * and is renamed to `<name>` once complete, so a 3PL that polls the directory never reads
 * half a file. A file that is already there is not written again (`putAtomic` answers
 * `exists`): the file name carries the identity of what it says.
 */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Client as SshClient, SFTPWrapper } from 'ssh2';
import { HubError } from '../../domain/errors.ts';
import { sftpError, SFTP_STATUS, type SftpFailure } from './errors.ts';
import { partnerCall } from '../http.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';

export interface SftpEntry {
  name: string;
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** What the port and the poller need from an SFTP server. */
export interface SftpTransport {
  /** the entries of a directory, without . and .. */
  list(dir: string): Promise<SftpEntry[]>;
  get(path: string): Promise<Buffer>;
  exists(path: string): Promise<boolean>;
  /** writes `path + tmpSuffix` then renames it to `path`; `exists` when `path` was already there (nothing written) */
  putAtomic(path: string, data: Buffer | string, tmpSuffix: string): Promise<'written' | 'exists'>;
  /** renames (moves) a file; fails when `to` exists */
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface SftpClientOptions {
  host: string;
  port: number;
  username: string;
  /** a password, or a private key (recognised by its -----BEGIN line) */
  secret: string;
  /** `SHA256:<base64>` or hex */
  hostKeySha256: string;
  timeoutMs?: number;
  /** the hub's tracer and metrics; default: those of the work the call runs in */
  telemetry?: HubTelemetry;
}

/** The fingerprint of an SSH public key blob as `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64. */
export function hostKeyFingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The pinned fingerprint as raw bytes, whichever of the two notations it is written in. */
function pinnedBytes(pin: string): Buffer {
  return pin.startsWith('SHA256:') ? Buffer.from(pin.slice(7), 'base64') : Buffer.from(pin, 'hex');
}

interface Session {
  client: SshClient;
  sftp: SFTPWrapper;
}

/**
 * Closes a connection for good. ssh2's destroy() leaves the socket open once the connection
 * has begun to end (after a handshake timeout, say), so the socket is destroyed as well.
 */
function hardClose(client: SshClient): void {
  client.destroy();
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

const isPrivateKey = (s: string) => /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(s.trim());

/** The ssh2 SFTP client behind `SftpTransport`. */
export class SftpClient implements SftpTransport {
  readonly #o: SftpClientOptions & { timeoutMs: number };
  readonly #pin: Buffer;
  #session: Promise<Session> | undefined;

  constructor(o: SftpClientOptions) {
    this.#o = { timeoutMs: 30000, ...o };
    this.#pin = pinnedBytes(o.hostKeySha256);
    if (this.#pin.length !== 32) throw sftpError({ kind: 'config', message: `hostKeySha256 ${JSON.stringify(o.hostKeySha256)} is not a SHA-256 fingerprint` });
  }

  get #where(): string {
    return `sftp://${this.#o.username}@${this.#o.host}:${this.#o.port}`;
  }

  #connect(): Promise<Session> {
    const session = new Promise<Session>((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyRefused: string | undefined;
      let settled = false;
      const fail = (f: SftpFailure, cause?: unknown) => {
        if (settled) return;
        settled = true;
        hardClose(client);
        reject(sftpError({ ...f, op: `connect ${this.#where}` }, cause));
      };
      client.on('ready', () => {
        // small request/answer exchanges: do not wait to fill packets (Nagle)
        client.setNoDelay(true);
        client.sftp((err, sftp) => {
          if (err) return fail({ kind: 'connection', message: `the server refused the SFTP subsystem: ${err.message}` }, err);
          settled = true;
          resolve({ client, sftp });
        });
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyRefused) return fail({ kind: 'host_key', message: hostKeyRefused }, err);
        if (err.level === 'client-authentication') return fail({ kind: 'auth', message: `authentication as ${this.#o.username} failed (${err.message})` }, err);
        if (err.level === 'client-timeout') return fail({ kind: 'timeout', message: `no SSH handshake within ${this.#o.timeoutMs} ms` }, err);
        fail({ kind: 'connection', ...(err.code ? { errno: err.code } : {}), message: err.message }, err);
      });
      client.on('close', () => {
        if (this.#session === session) this.#session = undefined;
        fail({ kind: 'connection', message: 'the connection closed during the handshake' });
      });
      let auth: { password: string } | { privateKey: string };
      try {
        auth = isPrivateKey(this.#o.secret) ? { privateKey: this.#o.secret } : { password: this.#o.secret };
        client.connect({
          host: this.#o.host,
          port: this.#o.port,
          username: this.#o.username,
          ...auth,
          readyTimeout: this.#o.timeoutMs,
          hostVerifier: (key: Buffer) => {
            const got = createHash('sha256').update(key).digest();
            if (got.equals(this.#pin)) return true;
            hostKeyRefused = `the server's host key ${hostKeyFingerprint(key)} is not the pinned ${this.#o.hostKeySha256}`;
            return false;
          },
        });
      } catch (e) {
        fail({ kind: 'config', message: `cannot connect with these settings: ${(e as Error).message}` }, e);
      }
    });
    session.catch(() => {
      if (this.#session === session) this.#session = undefined;
    });
    return session;
  }

  async #sftp(): Promise<Session> {
    this.#session ??= this.#connect();
    return this.#session;
  }

  /** Drops the current connection (the next call connects again). */
  #drop(s: Session): void {
    hardClose(s.client);
  }

  /** Runs one SFTP request with a timeout; its failure classified. */
  async #request<T>(op: string, run: (sftp: SFTPWrapper, done: (err: Error | undefined | null, v?: T) => void) => void): Promise<T> {
    const s = await this.#sftp();
    return new Promise<T>((resolve, reject) => {
      let finished = false;
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        this.#drop(s);
        reject(sftpError({ kind: 'timeout', op, message: `no answer within ${this.#o.timeoutMs} ms` }));
      }, this.#o.timeoutMs);
      const done = (err: Error | undefined | null, v?: T) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (!err) return resolve(v as T);
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'number') return reject(sftpError({ kind: 'sftp', sftpCode: code, op, message: err.message }, err));
        this.#drop(s);
        reject(sftpError({ kind: 'connection', ...(typeof code === 'string' ? { errno: code } : {}), op, message: err.message }, err));
      };
      try {
        run(s.sftp, done);
      } catch (e) {
        done(e as Error);
      }
    });
  }

  async #list(dir: string): Promise<SftpEntry[]> {
    const list = await this.#request<{ filename: string; attrs: { size?: number; mtime?: number; mode?: number } }[]>(`list ${dir}`, (sftp, done) => sftp.readdir(dir, done));
    return list
      .filter((e) => e.filename !== '.' && e.filename !== '..')
      .map((e) => {
        const type = (e.attrs.mode ?? 0) & 0o170000;
        return { name: e.filename, size: e.attrs.size ?? 0, mtimeMs: (e.attrs.mtime ?? 0) * 1000, isFile: type === 0o100000, isDirectory: type === 0o040000 };
      });
  }

  #get(path: string): Promise<Buffer> {
    return this.#request<Buffer>(`get ${path}`, (sftp, done) => sftp.readFile(path, done));
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await this.#request(`stat ${path}`, (sftp, done) => sftp.stat(path, done));
      return true;
    } catch (e) {
      if (e instanceof HubError && e.code === 'wms-sftp.not_found') return false;
      throw e;
    }
  }

  async #putAtomic(path: string, data: Buffer | string, tmpSuffix: string): Promise<'written' | 'exists'> {
    if (await this.#exists(path)) return 'exists';
    const tmp = path + tmpSuffix;
    await this.#request<void>(`put ${tmp}`, (sftp, done) => sftp.writeFile(tmp, data, { flag: 'w' } as never, (err) => done(err)));
    try {
      await this.#rename(tmp, path);
    } catch (e) {
      // written meanwhile by another writer (rename does not replace a file): that one stands
      if (await this.#exists(path).catch(() => false)) {
        await this.#remove(tmp).catch(() => undefined);
        return 'exists';
      }
      throw e;
    }
    return 'written';
  }

  #rename(from: string, to: string): Promise<void> {
    return this.#request<void>(`rename ${from} → ${to}`, (sftp, done) => sftp.rename(from, to, (err) => done(err)));
  }

  #remove(path: string): Promise<void> {
    return this.#request<void>(`remove ${path}`, (sftp, done) => sftp.unlink(path, (err) => done(err)));
  }

  // ------------------------------------------------------------------ the port, each operation counted and traced once

  #call<T>(operation: string, path: string, run: () => Promise<T>): Promise<T> {
    return partnerCall(this.#o.telemetry, { connector: 'wms-sftp', operation, attributes: { 'server.address': this.#o.host, 'server.port': this.#o.port, 'file.path': path } }, run);
  }

  list(dir: string): Promise<SftpEntry[]> {
    return this.#call('list', dir, () => this.#list(dir));
  }

  get(path: string): Promise<Buffer> {
    return this.#call('get', path, () => this.#get(path));
  }

  exists(path: string): Promise<boolean> {
    return this.#call('exists', path, () => this.#exists(path));
  }

  putAtomic(path: string, data: Buffer | string, tmpSuffix: string): Promise<'written' | 'exists'> {
    return this.#call('put', path, () => this.#putAtomic(path, data, tmpSuffix));
  }

  rename(from: string, to: string): Promise<void> {
    return this.#call('rename', to, () => this.#rename(from, to));
  }

  remove(path: string): Promise<void> {
    return this.#call('remove', path, () => this.#remove(path));
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (!s) return;
    const session = await s.catch(() => undefined);
    if (!session) return;
    await new Promise<void>((resolve) => {
      session.client.once('close', () => resolve());
      session.client.end();
      setTimeout(resolve, 1000).unref();
    });
  }
}

export { SFTP_STATUS };
