import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { eventually } from '../helpers/redis.js';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));

test('the demo starts Redis, the emulator and the daemon, receipts reach the log handler, and Ctrl-C stops it cleanly', async () => {
  const env = { ...process.env };
  delete env['REDIS_URL']; // the demo must bring its own Redis
  const child = spawn(process.execPath, [BIN, 'demo', '--rate', '20'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  try {
    await eventually(
      () => (output.match(/receipt handled/g) ?? []).length >= 10,
      30_000,
      'ten receipts handled',
    );
    assert.match(output, /Dashboard\s+http:\/\/127\.0\.0\.1:\d+\/admin/);
    assert.match(output, /Metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.match(output, /Health\s+http:\/\/127\.0\.0\.1:\d+\/healthz/);
    for (const type of ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit']) {
      assert.match(output, new RegExp(`receipt handled.*${type}`), `${type} receipts handled`);
    }
    const stoppedAt = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 0, output.slice(-2000));
    assert.ok(Date.now() - stoppedAt < 15_000, 'stopped promptly');
    assert.match(output, /"event":"daemon_stopped"|stopped/);
    assert.doesNotMatch(output, /ECONNREFUSED/, 'Redis outlived the daemon');
  } finally {
    child.kill('SIGKILL');
  }
});
