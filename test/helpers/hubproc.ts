/** Starts real hub processes (test/fixtures/hub-child.ts) and kills them. */
import { spawn, type ChildProcess } from 'node:child_process';

/** Every hub process of a test shares one master key, as the hubs of one deployment must. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const root = join(import.meta.dirname, '..', '..');

export class HubProcess {
  child: ChildProcess | undefined;
  url: string | undefined;
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  stderr = '';

  constructor(name: string, env: NodeJS.ProcessEnv, config: Record<string, unknown> = {}) {
    this.name = name;
    const dir = mkdtempSync(join(tmpdir(), `hub-${name}-`));
    const cfgFile = join(dir, 'hub.json.yaml');
    writeFileSync(cfgFile, JSON.stringify(config));
    this.env = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', HUB_INSTANCE_ID: name, HUB_DATA_DIR: dir, HUB_MASTER_KEY: TEST_MASTER_KEY, HUB_CONFIG: cfgFile, ...env };
  }

  async start(timeoutMs = 30_000): Promise<string> {
    const child = spawn(process.execPath, [join(root, 'test', 'fixtures', 'hub-child.ts')], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-20000)));
    let buf = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name} did not start in ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      child.stdout!.on('data', (d) => {
        buf += d;
        const m = /READY (\S+)/.exec(buf);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`${this.name} exited with ${code} before it was ready: ${this.stderr}`));
      });
    });
    this.url = url;
    return url;
  }

  /** SIGKILL: no shutdown code runs. */
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGKILL');
    await once(c, 'exit');
    this.url = undefined;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await once(c, 'exit');
    clearTimeout(t);
  }
}
