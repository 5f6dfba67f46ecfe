/** Runs the real `logistics-hub` command line as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** variables on top of a clean environment (PATH, HOME, NO_COLOR, HUB_DATA_DIR) */
  env?: Record<string, string | undefined>;
  /** working directory; default a fresh empty directory, so no ./hub.yaml is picked up */
  cwd?: string;
  timeoutMs?: number;
}

export function tempDir(prefix = 'hub-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function environment(o: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', HUB_DATA_DIR: join(tempDir(), 'data'), LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawns `node src/cli/main.ts ...args` and collects its output. */
export function spawnCli(args: string[], o: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { cwd: o.cwd ?? tempDir(), env: environment(o), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function cli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, o);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`logistics-hub ${args.join(' ')} did not finish in ${o.timeoutMs ?? 30000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A readable assertion message with everything the command printed. */
export function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export interface RunningHub {
  url: string;
  /** the first line: "odoo-logistics-hub listening on ..." */
  banner: string;
  output(): { stdout: string; stderr: string };
  /** sends the signal and resolves with the exit code */
  signal(sig: NodeJS.Signals): Promise<number | null>;
  kill(): void;
}

/** Runs `logistics-hub start ...args` until it prints the URL it listens on. */
export function startHub(args: string[], o: CliOptions = {}): Promise<RunningHub> {
  const child = spawnCli(['start', ...args], o);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise<RunningHub>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening on" line in ${o.timeoutMs ?? 30000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 30000);
    const check = () => {
      const m = /^odoo-logistics-hub listening on (http:\/\/\S+) .*$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        banner: m[0],
        output: () => ({ stdout, stderr }),
        signal: (sig) => {
          child.kill(sig);
          return exited;
        },
        kill: () => child.kill('SIGKILL'),
      });
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`start exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}
