/**
 * Writes docs/configuration.md from the configuration schema. With --check, writes
 * nothing and exits 1 when the file is missing or differs (for CI and `npm test`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { renderConfigDocs } from '../src/cli/config-docs.ts';

const root = join(import.meta.dirname, '..');
const target = join(root, 'docs', 'configuration.md');
const want = renderConfigDocs();
const have = existsSync(target) ? readFileSync(target, 'utf8') : undefined;

if (process.argv.includes('--check')) {
  if (have === want) {
    console.log(`${relative(root, target)} is up to date`);
    process.exit(0);
  }
  console.error(`${relative(root, target)} is ${have === undefined ? 'missing' : 'stale'}: run \`node scripts/gen-config-docs.ts\` and commit the result`);
  process.exit(1);
}
if (have === want) console.log(`${relative(root, target)} unchanged`);
else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, want);
  console.log(`wrote ${relative(root, target)}`);
}
