/**
 * What every command shares: the global options, loading the configuration with precise
 * errors (file:line:column for the YAML file, the variable for the environment, the flag
 * for the command line), and opening the database (starting the embedded PostgreSQL when
 * no URL is configured, and stopping it again if this command started it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node as YamlNode } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError } from '../domain/errors.ts';
import { ConfigSchema, ENV_KEYS, loadConfig, type HubConfig } from '../platform/config.ts';
import { openDatabase, redactUrl, type Database } from '../platform/db.ts';
import { CliError, EXIT_USAGE, explainDatabaseError } from './errors.ts';

export interface GlobalOptions {
  config?: string;
  databaseUrl?: string;
  dataDir?: string;
  verbose?: boolean;
  color?: boolean;
}

export interface LoadedConfig {
  config: HubConfig;
  /** the YAML file read, if any (absolute) */
  file: string | undefined;
  /** how the file was chosen */
  fileFrom: '--config' | 'HUB_CONFIG' | './hub.yaml' | undefined;
  /** environment variables that set configuration keys */
  env: string[];
  /** command-line flags that set configuration keys */
  flags: string[];
}

/** Configuration keys set by command-line flags, with the flag named in errors. */
export type Overrides = Record<string, { value: unknown; flag: string }>;

const FLAG_KEYS: Record<string, { key: string; flag: string }> = {
  databaseUrl: { key: 'databaseUrl', flag: '--database-url' },
  dataDir: { key: 'dataDir', flag: '--data-dir' },
};

function schemaAt(path: string[]): TSchema | undefined {
  let s: TSchema | undefined = ConfigSchema;
  for (const p of path) s = (s as { properties?: Record<string, TSchema> } | undefined)?.properties?.[p];
  return s;
}

function lineCol(lc: LineCounter, offset: number): string {
  const { line, col } = lc.linePos(offset);
  return `${line}:${col}`;
}

/** The YAML node of a key path: the key itself (for unknown keys) or its value. */
function locate(doc: Document, path: string[], lc: LineCounter, wantKey: boolean): string | undefined {
  let node: unknown = doc.contents;
  let last: string | undefined;
  for (let i = 0; i < path.length; i++) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === path[i]);
    if (!pair) break;
    const keyNode = pair.key as YamlNode;
    if (keyNode.range) last = lineCol(lc, keyNode.range[0]);
    if (i === path.length - 1 && !wantKey) {
      const v = pair.value as YamlNode | null;
      if (v?.range) last = lineCol(lc, v.range[0]);
    }
    node = pair.value;
  }
  return last;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
  return d[a.length]![b.length]!;
}

function suggestion(name: string, known: string[]): string {
  const best = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best.k}"?)` : '';
}

/** Unknown keys at any depth (the schema rejects them at the top level only). */
function unknownKeys(doc: Document, lc: LineCounter, file: string): void {
  const walk = (node: unknown, schema: TSchema, prefix: string[]) => {
    if (!isMap(node)) return;
    const props = (schema as { properties?: Record<string, TSchema> }).properties;
    if (!props) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const name = String(pair.key.value);
      const sub = props[name];
      if (!sub) {
        const key = [...prefix, name].join('.');
        const at = (pair.key as YamlNode).range ? `:${lineCol(lc, (pair.key as YamlNode).range![0])}` : '';
        throw new CliError(`${file}${at}: configuration key "${key}" is not a known configuration key${suggestion(name, Object.keys(props))}`, {
          exitCode: EXIT_USAGE,
          fix: 'remove it or correct its name; `logistics-hub config schema` lists every key',
        });
      }
      walk(pair.value, sub, [...prefix, name]);
    }
  };
  walk(doc.contents, ConfigSchema, []);
}

/** Hides passwords of URLs quoted in a message. */
export function redactSecrets(s: string): string {
  return s.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/\s@"]*:)[^@\s"]*@/gi, '$1***@');
}

function betterMessage(e: ConfigError): string {
  return redactSecrets(rawMessage(e));
}

function rawMessage(e: ConfigError): string {
  const s = schemaAt(e.key.split('.')) as { anyOf?: { const?: unknown }[] } | undefined;
  const got = /\(got (.*)\)$/.exec(e.message)?.[1];
  if (s?.anyOf?.every((x) => x.const !== undefined) && /Expected union value/.test(e.message)) {
    return `configuration key "${e.key}": must be one of ${s.anyOf.map((x) => String(x.const)).join(', ')}${got ? ` (got ${got})` : ''}`;
  }
  return e.message;
}

/**
 * Loads the configuration: defaults < YAML file < environment < command-line flags.
 * Every problem is a CliError with exit code 2 that says where the bad value came from.
 */
export function loadCliConfig(globals: GlobalOptions, overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let fileFrom: LoadedConfig['fileFrom'];
  let file: string | undefined;
  if (globals.config) [file, fileFrom] = [globals.config, '--config'];
  else if (env.HUB_CONFIG) [file, fileFrom] = [env.HUB_CONFIG, 'HUB_CONFIG'];
  else if (existsSync('hub.yaml')) [file, fileFrom] = ['hub.yaml', './hub.yaml'];

  let doc: Document | undefined;
  const lc = new LineCounter();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new CliError(`cannot read the configuration file ${resolve(file)} (named by ${fileFrom}): ${why}`, {
        exitCode: EXIT_USAGE,
        fix: fileFrom === 'HUB_CONFIG' ? 'correct or unset HUB_CONFIG' : 'correct the path given to --config',
      });
    }
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
    const err = doc.errors[0];
    if (err) {
      const at = err.pos ? `:${lineCol(lc, err.pos[0])}` : '';
      const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new CliError(`${file}${at}: not valid YAML: ${what}`, { exitCode: EXIT_USAGE });
    }
    const top = doc.contents;
    if (top !== null && !isMap(top)) {
      throw new CliError(`${file}: the top level must be a mapping of configuration keys to values`, { exitCode: EXIT_USAGE });
    }
    unknownKeys(doc, lc, file);
  }

  const all: Overrides = { ...overrides };
  for (const [opt, { key, flag }] of Object.entries(FLAG_KEYS)) {
    const v = globals[opt as keyof GlobalOptions];
    if (v !== undefined) all[key] = { value: v, flag };
  }
  let config: HubConfig;
  try {
    config = loadConfig({ env, ...(file ? { file } : {}), overrides: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.value])) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const message = betterMessage(e);
    const flag = Object.entries(all).find(([k]) => k === e.key)?.[1].flag;
    if (flag) throw new CliError(`${message} (set by ${flag})`, { exitCode: EXIT_USAGE, cause: e });
    const envName = Object.entries(ENV_KEYS).find(([n, s]) => s.key === e.key && env[n] !== undefined && env[n] !== '')?.[0];
    if (envName) {
      const named = message.includes(envName) ? message : `${message} (set by environment variable ${envName})`;
      throw new CliError(named, { exitCode: EXIT_USAGE, fix: `correct or unset ${envName}`, cause: e });
    }
    if (doc && file) {
      const at = locate(doc, e.key.split('.'), lc, false);
      throw new CliError(`${file}${at ? ':' + at : ''}: ${message}`, { exitCode: EXIT_USAGE, cause: e });
    }
    throw new CliError(message, { exitCode: EXIT_USAGE, cause: e });
  }
  const { source: _source, ...plain } = config as HubConfig & { source?: unknown };
  return {
    config: plain as HubConfig,
    file: file ? resolve(file) : undefined,
    fileFrom,
    env: Object.keys(ENV_KEYS).filter((n) => env[n] !== undefined && env[n] !== ''),
    flags: Object.values(all).map((v) => v.flag),
  };
}

/** Where the database is, for people: the redacted URL or the embedded data directory. */
export function describeDatabase(db: { url: string; embedded: boolean }, config: HubConfig): string {
  return db.embedded ? `embedded PostgreSQL in ${join(config.dataDir, 'pg')}` : redactUrl(db.url);
}

/**
 * Opens the database for one command and closes it afterwards; the embedded PostgreSQL is
 * started when no URL is configured and stopped again only if this command started it.
 * Connection problems become one-line errors with a fix.
 */
export async function withDatabase<T>(config: HubConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  let db: Database;
  try {
    db = await openDatabase(config);
  } catch (e) {
    throw new CliError(`could not start the embedded PostgreSQL in ${resolve(config.dataDir, 'pg')}: ${(e as Error).message}`, {
      fix: 'check that the data directory is writable (`logistics-hub doctor`), or set DATABASE_URL to use an external PostgreSQL',
      cause: e,
    });
  }
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const x = explainDatabaseError(e, db.url, db.embedded);
    if (x) throw new CliError(x.problem, { fix: x.fix, cause: e });
    throw e;
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** Who asked, for replay requests and history. */
export function requester(): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME;
  }
  return `cli:${user || 'unknown'}@${hostname()}`;
}
