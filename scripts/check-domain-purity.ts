/**
 * Fails when a file under src/domain imports anything but other domain files and the
 * few pure libraries the domain may use. The domain is the canonical model and its
 * state machines: no network, no database, no file system, no clock of its own.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = join(import.meta.dirname, '..');
const domain = join(root, 'src', 'domain');
const ALLOWED_PACKAGES = new Set(['@sinclair/typebox', '@sinclair/typebox/value', '@sinclair/typebox/compiler']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const problems: string[] = [];
for (const f of files(domain)) {
  const src = readFileSync(f, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|require\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4]!;
    const line = src.slice(0, m.index).split('\n').length;
    const where = `${relative(root, f)}:${line}`;
    if (spec.startsWith('.')) {
      const target = resolve(dirname(f), spec);
      if (!target.startsWith(domain)) problems.push(`${where} imports ${spec}, outside src/domain`);
    } else if (!ALLOWED_PACKAGES.has(spec)) {
      problems.push(`${where} imports ${spec}: src/domain must stay free of I/O and runtime modules`);
    }
  }
  if (/\bprocess\.|\bfetch\(|\bDate\.now\(|new Date\(\)/.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) {
    problems.push(`${relative(root, f)} uses process, fetch or the wall clock: pass time and input in instead`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`src/domain is pure (${files(domain).length} files checked)`);
