/**
 * The HTTP listener every simulator shares: listens on a host and port (0 picks one and keeps
 * it, so a simulator that goes down comes back at the same URL), tracks its sockets so an
 * outage cuts open connections the way a crashed server does, and can go down for a while
 * ("connection refused") and come back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class SimListener {
  url = '';
  #server: Server | undefined;
  #port: number;
  readonly #host: string;
  readonly #handler: RequestHandler;
  readonly #sockets = new Set<Socket>();
  #reopen: NodeJS.Timeout | undefined;

  constructor(handler: RequestHandler, o: { host?: string; port?: number } = {}) {
    this.#handler = handler;
    this.#host = o.host ?? '127.0.0.1';
    this.#port = o.port ?? 0;
  }

  /** Starts listening (again); resolves with the URL. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => void this.#handler(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.url = `http://${this.#host}:${this.#port}`;
    this.#server = server;
    return this.url;
  }

  /** Connection refused for `forMs`, open connections cut; then listening again at the same URL. */
  async goDown(forMs: number): Promise<void> {
    await this.#close();
    clearTimeout(this.#reopen);
    this.#reopen = setTimeout(() => void this.up(), forMs);
    this.#reopen.unref?.();
  }

  /** Listens again after goDown (at once, whatever was scheduled). */
  async up(): Promise<void> {
    clearTimeout(this.#reopen);
    if (!this.#server) await this.listen();
  }

  get isUp(): boolean {
    return this.#server !== undefined;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#reopen);
    await this.#close();
  }

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
