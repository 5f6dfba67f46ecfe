#!/usr/bin/env node
// Launcher: runs the TypeScript CLI directly on a Node.js that strips types (22.18+).
// On an older Node.js it re-executes itself with the Node.js LTS installed by `npm ci`
// (the `node` package in dependencies), so the command works on any machine.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const stripsTypes = major > 22 || (major === 22 && minor >= 18);

if (stripsTypes) {
  await import(entry);
} else {
  const local = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(local)) {
    console.error(`logistics-hub needs Node.js 22.18 or newer (this is ${process.version}); run \`npm ci\` to install the project's Node.js LTS.`);
    process.exit(1);
  }
  const r = spawnSync(local, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
