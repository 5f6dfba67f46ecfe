/**
 * The specification test of the Odoo simulator: every exchange of every transcript recorded
 * from a genuine Odoo 18 (test/fixtures/odoo-18, copied from the reference set) is
 * replayed, in order, against one simulator, and the answer must have the recorded structure:
 * the same HTTP status and content type, the same keys and value types (int, float, string,
 * boolean, list, dict), the same XML-RPC fault codes and JSON-RPC error codes and exception
 * names. Ids, names and timestamps may differ: ids the simulator allocates differently are
 * learnt from the answers and substituted into later requests.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { TRANSCRIPTS_DIR } from '../../helpers/odoo-transcripts.ts';
import { PyFloat, decodeMethodResponse, parsePyJson } from '../../../simulators/odoo/wire.ts';

interface Exchange {
  title: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string };
  response: { status: number; headers: Record<string, string | string[]>; body: string };
  note?: string;
}

const DIR = TRANSCRIPTS_DIR;
const FILES = readdirSync(DIR).filter((f) => /^\d\d-.*\.json$/.test(f)).sort();

/** Transcripts whose flows need the business methods (action_confirm, button_validate, wizards...), not built yet. */
const NEEDS_FLOWS = new Set<string>([]);

const sim = await OdooSimulator.start({ version: 18 });
after(() => sim.stop());

/** Recorded id → the simulator's id, learnt from answers. */
const ids = new Map<number, number>();
/** Recorded session cookie → the simulator's. */
const cookies = new Map<string, string>();

type Shape = string | Shape[] | { [k: string]: Shape };

function kind(v: unknown): string {
  if (v instanceof PyFloat) return 'float';
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v === 'object' ? 'dict' : typeof v;
}

/** Differences between the recorded and the simulated value, as paths; learns id mappings on the way. */
function compare(rec: unknown, got: unknown, path: string, out: string[]): void {
  // the Python JSON reader keeps integer-like keys in order with a Map
  if (rec instanceof Map) rec = Object.fromEntries(rec);
  if (got instanceof Map) got = Object.fromEntries(got);
  const k = kind(rec);
  const g = kind(got);
  // Odoo writes false for an unset value of any type: a recorded false may be a value elsewhere, and the reverse
  if (k !== g && !(k === 'boolean' && rec === false) && !(g === 'boolean' && got === false)) {
    out.push(`${path}: recorded ${k}, got ${g}`);
    return;
  }
  if (k === 'int' && g === 'int' && rec !== got && /(^|\.|\/)(id|res_id|uid|\d+)$|_id(\/0)?$|_ids\/\d+$/.test(path)) ids.set(rec as number, got as number);
  if (k === 'list') {
    const a = rec as unknown[];
    const b = got as unknown[];
    if ((a.length === 0) !== (b.length === 0)) out.push(`${path}: recorded ${a.length} items, got ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) compare(a[i], b[i], `${path}/${i}`, out);
  } else if (k === 'dict') {
    const a = rec as Record<string, unknown>;
    const b = got as Record<string, unknown>;
    const missing = Object.keys(a).filter((x) => !(x in b));
    const extra = Object.keys(b).filter((x) => !(x in a));
    if (missing.length) out.push(`${path}: missing keys ${missing.join(', ')}`);
    if (extra.length) out.push(`${path}: unexpected keys ${extra.join(', ')}`);
    for (const x of Object.keys(a)) if (x in b) compare(a[x], b[x], `${path}/${x}`, out);
  }
}

/** The exception class on the last line of a Python traceback. */
const lastException = (tb: string) => /(^|\n)([\w.]+)(: |\n?$)[^\n]*\n?$/.exec(tb.trimEnd())?.[2];

function substitute(body: string, xml: boolean): string {
  if (!ids.size) return body;
  return xml
    ? body.replace(/<(int|i4)>(-?\d+)<\/\1>/g, (m, t: string, n: string) => (ids.has(Number(n)) ? `<${t}>${ids.get(Number(n))}</${t}>` : m))
    : body.replace(/(?<=[[,:]\s*)(\d+)(?=\s*[\],}])/g, (m) => (ids.has(Number(m)) ? String(ids.get(Number(m))) : m));
}

async function replay(e: Exchange): Promise<string[]> {
  const xml = e.request.path.startsWith('/xmlrpc');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.request.headers)) headers[k] = v;
  if (headers.Cookie) {
    const rec = /session_id=([^;]+)/.exec(headers.Cookie)?.[1] ?? '';
    headers.Cookie = `session_id=${cookies.get(rec) ?? rec}`;
  }
  const res = await fetch(sim.url + e.request.path, { method: e.request.method, headers, body: substitute(e.request.body, xml) });
  const text = await res.text();
  const problems: string[] = [];
  if (res.status !== e.response.status) problems.push(`status: recorded ${e.response.status}, got ${res.status}`);
  const recType = String(e.response.headers['Content-Type'] ?? '');
  if ((res.headers.get('content-type') ?? '').split(';')[0] !== recType.split(';')[0]) problems.push(`content type: recorded ${recType}, got ${res.headers.get('content-type')}`);
  // learn the session cookie the simulator handed out in place of the recorded one
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('session_id='));
  const recorded = [e.response.headers['Set-Cookie']].flat().filter(Boolean) as string[];
  if (recorded.includes('session_id') !== Boolean(setCookie)) problems.push(`Set-Cookie session_id: recorded ${recorded.includes('session_id')}, got ${Boolean(setCookie)}`);
  if (setCookie && e.request.path === '/web/session/authenticate') {
    // the recorded cookie of this session is the one the next requests send
    const next = EXCHANGES_AFTER.get(e)?.find((x) => x.request.headers.Cookie)?.request.headers.Cookie;
    const rec = next ? /session_id=([^;]+)/.exec(next)?.[1] : undefined;
    if (rec) cookies.set(rec, /session_id=([^;]+)/.exec(setCookie)![1]!);
  }
  if (res.status !== 200 || e.response.status !== 200 || problems.length) return problems;
  if (xml) {
    const a = decodeMethodResponse(e.response.body);
    const b = decodeMethodResponse(text);
    if (a.kind === 'fault' || b.kind === 'fault') {
      if (a.kind !== 'fault' || b.kind !== 'fault') return [`recorded ${a.kind}, got ${b.kind}${b.kind === 'fault' ? `: ${String(b.faultString).slice(-200)}` : ''}`];
      const sameString = typeof a.faultCode === 'string' && typeof b.faultCode === 'string' && a.faultCode.split('\n')[0] === b.faultCode.split('\n')[0];
      if (a.faultCode !== b.faultCode && !sameString) problems.push(`faultCode: recorded ${JSON.stringify(a.faultCode).slice(0, 80)}, got ${JSON.stringify(b.faultCode).slice(0, 80)}`);
      if (a.faultCode === 1 && lastException(a.faultString) !== lastException(b.faultString)) {
        problems.push(`exception: recorded ${lastException(a.faultString)}, got ${lastException(b.faultString)}`);
      }
      return problems;
    }
    if (b.kind !== 'result') return problems;
    compare(a.kind === 'result' ? a.value : undefined, b.value, '', problems);
    return problems;
  }
  const a = parsePyJson(e.response.body) as Record<string, unknown>;
  const b = parsePyJson(text) as Record<string, unknown>;
  if (('error' in a) !== ('error' in b)) return [`recorded ${'error' in a ? 'an error' : 'a result'}, got ${'error' in b ? `an error ${JSON.stringify((b.error as { data?: { message?: string } }).data?.message)}` : 'a result'}`];
  if (('result' in a) !== ('result' in b)) problems.push(`result member: recorded ${'result' in a}, got ${'result' in b}`);
  if ((a.id === null) !== (b.id === null)) problems.push(`id: recorded ${String(a.id)}, got ${String(b.id)}`);
  if ('error' in a) {
    const ea = a.error as { code: number; data: { name: string } };
    const eb = b.error as { code: number; data: { name: string } };
    if (ea.code !== eb.code) problems.push(`error.code: recorded ${ea.code}, got ${eb.code}`);
    if (ea.data.name !== eb.data.name) problems.push(`error.data.name: recorded ${ea.data.name}, got ${eb.data.name}`);
    compare({ ...ea, data: { ...ea.data, debug: '' } }, { ...eb, data: { ...eb.data, debug: '' } }, '/error', problems);
    return problems;
  }
  compare(a.result, b.result, '/result', problems);
  return problems;
}

const EXCHANGES_AFTER = new Map<Exchange, Exchange[]>();

for (const file of FILES) {
  const exchanges = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Exchange[];
  exchanges.forEach((e, i) => EXCHANGES_AFTER.set(e, exchanges.slice(i + 1)));
  const pending = NEEDS_FLOWS.has(file);
  test(`transcript ${file}: every exchange has the recorded structure`, pending ? { todo: 'needs the business methods of the flows' } : {}, async () => {
    const wrong: string[] = [];
    for (const e of exchanges) {
      const p = await replay(e);
      if (p.length) wrong.push(`${e.title}:\n    ${p.slice(0, 6).join('\n    ')}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${exchanges.length} exchanges differ`);
  });
}
