import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, show } from './helpers.ts';

// Every command and subcommand: --help exits 0, names its options and shows examples.
const commands: [string[], string[]][] = [
  [[], ['--config', '--database-url', '--data-dir', '--verbose', 'start', 'migrate', 'doctor', 'dlq', 'replay', 'trace', 'config', 'Exit codes']],
  [['start'], ['--port', '--host', '--no-workers', '--config', '--database-url', '--data-dir']],
  [['migrate'], ['--status', '--json']],
  [['doctor'], ['--port', '--host', '--json']],
  [['dlq'], ['list', 'show']],
  [['dlq', 'list'], ['--type', '--key', '--source', '--code', '--class', '--status', '--since', '--until', '--limit', '--json']],
  [['dlq', 'show'], ['<id>', '--json']],
  [['replay'], ['[ids...]', '--type', '--key', '--source', '--code', '--class', '--since', '--until', '--no-wait', '--timeout', '--in-process', '--json']],
  [['trace'], ['<key-or-event-id>', '--json']],
  [['config'], ['show', 'schema']],
  [['config', 'show'], ['--json']],
  [['config', 'schema'], []],
];

test('--help of every command exits 0 and mentions its options and examples', async () => {
  const results = await Promise.all(commands.map(([cmd]) => cli([...cmd, '--help'])));
  commands.forEach(([cmd, mentions], i) => {
    const r = results[i]!;
    const name = ['logistics-hub', ...cmd].join(' ');
    assert.equal(r.code, 0, `${name} --help\n${show(r)}`);
    assert.match(r.stdout, new RegExp(`Usage: ${name}`), name);
    assert.match(r.stdout, /Examples:\n  \$ logistics-hub/, `${name} has examples`);
    for (const m of mentions) assert.ok(r.stdout.includes(m), `${name} --help mentions ${m}\n${r.stdout}`);
  });
});

test('usage errors exit 2 with a precise message and no stack trace', async () => {
  const [unknownCmd, unknownOpt, badLimit, badClass, badSince, noFilter, noSub] = await Promise.all([
    cli(['frobnicate']),
    cli(['dlq', 'list', '--frob']),
    cli(['dlq', 'list', '--limit', 'ten']),
    cli(['dlq', 'list', '--class', 'fatal']),
    cli(['replay', '--since', 'yesterday']),
    cli(['replay']),
    cli(['dlq']),
  ]);
  assert.equal(unknownCmd.code, 2, show(unknownCmd));
  assert.match(unknownCmd.stderr, /unknown command 'frobnicate'/);
  assert.equal(unknownOpt.code, 2, show(unknownOpt));
  assert.match(unknownOpt.stderr, /unknown option '--frob'/);
  assert.equal(badLimit.code, 2, show(badLimit));
  assert.match(badLimit.stderr, /--limit <n>' argument 'ten' is invalid/);
  assert.equal(badClass.code, 2, show(badClass));
  assert.match(badClass.stderr, /Allowed choices are transient, permanent, business/);
  assert.equal(badSince.code, 2, show(badSince));
  assert.match(badSince.stderr, /--since <time>' argument 'yesterday' is invalid.*2h, 3d/);
  assert.equal(noFilter.code, 2, show(noFilter));
  assert.match(noFilter.stderr, /say which dead letters to replay/);
  assert.equal(noSub.code, 2, show(noSub));
  for (const r of [unknownCmd, unknownOpt, badLimit, badClass, badSince, noFilter, noSub]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('--version prints the version', async () => {
  const r = await cli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
