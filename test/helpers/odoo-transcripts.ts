/**
 * The recorded Odoo 18 transcripts in test/fixtures/odoo-18 (recorded facts from a genuine
 * server; see its README.md): the specification of the simulator and the connector's fixtures.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Exchange {
  title: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string };
  response: { status: number; headers: Record<string, string | string[]>; body: string };
  note: string;
}

export const TRANSCRIPTS_DIR = join(import.meta.dirname, '..', 'fixtures', 'odoo-18');
const dir = TRANSCRIPTS_DIR;

export function transcript(name: string): Exchange[] {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Exchange[];
}

export function allTranscripts(): { file: string; index: number; x: Exchange }[] {
  const out: { file: string; index: number; x: Exchange }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    transcript(file).forEach((x, index) => out.push({ file, index, x }));
  }
  return out;
}

/** The exchange whose title contains `part` (exactly one). */
export function exchange(file: string, part: string): Exchange {
  const found = transcript(file).filter((x) => x.title.includes(part));
  if (found.length !== 1) throw new Error(`${file}: ${found.length} exchanges titled like ${JSON.stringify(part)}`);
  return found[0]!;
}
