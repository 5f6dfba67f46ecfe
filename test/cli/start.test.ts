import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { cli, show, startHub } from './helpers.ts';

const db = await freshDatabase({ poolSize: 2 });

test('start prints the actual URL, answers /healthz, refuses a taken port and exits 0 on SIGTERM', async () => {
  const hub = await startHub(['--port', '0'], { env: { DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
  try {
    assert.match(hub.banner, /^odoo-logistics-hub listening on http:\/\/127\.0\.0\.1:\d+ \(database: postgresql:\/\/[^)]+\)$/);
    assert.doesNotMatch(hub.url, /:0$/, 'the actual port, not 0');
    const res = await fetch(`${hub.url}/healthz`);
    assert.equal(res.status, 200);

    const port = new URL(hub.url).port;
    const taken = await cli(['start', '--port', port], { env: { DATABASE_URL: db.url, LOG_LEVEL: 'silent' } });
    assert.equal(taken.code, 1, show(taken));
    assert.match(taken.stderr, new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 is already in use\\n {2}fix: `, 'm'));

    const code = await hub.signal('SIGTERM');
    const { stdout, stderr } = hub.output();
    assert.equal(code, 0, `stdout: ${stdout}\nstderr: ${stderr}`);
    assert.match(stderr, /SIGTERM received: stopping/);
    assert.match(stderr, /stopped\n$/);
  } finally {
    hub.kill();
  }
});
