import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { notifySystemdReady } from '../../src/cli/sd-notify.js';
import { eventually } from '../helpers/redis.js';

test('READY=1 reaches the NOTIFY_SOCKET datagram socket, naming the daemon as the main process', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'cams-notify-')), 'notify.sock');
  // A unix datagram receiver in place of systemd (Node has no unix datagram sockets). systemd-notify then
  // waits for the receiver to close the descriptor it passed along (systemd does once it has the message):
  // socat does so when it exits, a second after the last datagram.
  const receiver = spawn('socat', ['-T', '1', '-u', `UNIX-RECV:${socket}`, 'STDOUT'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let received = '';
  receiver.stdout.on('data', (d: Buffer) => (received += d.toString()));
  const gone = new Promise(resolve => receiver.once('exit', resolve));
  try {
    await eventually(() => existsSync(socket), 10_000, 'the receiver listens');
    assert.equal(await notifySystemdReady({ ...process.env, NOTIFY_SOCKET: socket }, 4242), undefined);
    await eventually(() => received.includes('READY=1'), 10_000, 'READY=1 received');
    assert.match(received, /MAINPID=4242/);
  } finally {
    receiver.kill();
    await gone;
  }
});

test('without NOTIFY_SOCKET nothing is sent; a socket nobody listens on is reported, not thrown', async () => {
  assert.equal(await notifySystemdReady({}, 1), undefined);
  const env = { ...process.env, NOTIFY_SOCKET: '/nonexistent/notify.sock' };
  assert.match((await notifySystemdReady(env, 1)) ?? '', /systemd-notify exited/);
});
