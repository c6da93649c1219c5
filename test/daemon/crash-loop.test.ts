import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startEmulator } from '../../src/emulator/index.js';
import { DeadLetterStore } from '../../src/pipeline/dead-letter-store.js';
import { KeySpace } from '../../src/pipeline/keys.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { writeConfigDir } from './harness.js';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));
const CRASHER = fileURLToPath(new URL('../fixtures/handlers/crasher.mjs', import.meta.url));

function startDaemon(configDir: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'start', '--config', configDir], {
    env: { ...process.env, NODE_ENV: 'production', CAMS_LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => child.once('exit', () => resolve()));
}

test('a receipt that crashes the daemon on every run ends in the dead-letter store as stalled, never deleted unhandled', async () => {
  const emulator = await startEmulator({ port: 0, visibilityTimeoutSeconds: 3 });
  const redis = new Redis(redisUrl());
  const prefix = uniquePrefix('crash');
  const listKey = `${uniquePrefix('runs')}:runs`;
  const configDir = writeConfigDir(emulator, {
    redisUrl: redisUrl(),
    prefix,
    handlers: [{ module: CRASHER, options: { redisUrl: redisUrl(), listKey, poisonId: 'poison' } }, 'log'],
    extra: {
      smq: { visibilityTimeoutSeconds: 3, leaseLeadMs: 1000 },
      pipeline: { concurrency: 8, lockDurationMs: 3000, stalledIntervalMs: 1000, maxStalledCount: 2 },
    },
  });
  const deadLetters = new DeadLetterStore(redis, new KeySpace(prefix));
  const receipts = [
    ...Array.from({ length: 40 }, (_, i) => ({ MessageId: `ok-${i}`, Status: 'Sent', Timestamp: 1 })),
    { MessageId: 'poison', Status: 'Sent', Timestamp: 1 },
  ];
  let daemon: ChildProcess | undefined;
  try {
    await emulator.inject({ messageType: 'ChatAppStatus', receipts });
    let starts = 0;
    while ((await deadLetters.count()) === 0 && starts < 5) {
      starts += 1;
      daemon = startDaemon(configDir);
      const child = daemon;
      const died = exited(child).then(() => {
        assert.equal(
          child.signalCode,
          'SIGKILL',
          `the daemon died only of the poison (exit ${child.exitCode})`,
        );
        return 'died' as const;
      });
      const parked = eventually(async () => (await deadLetters.count()) > 0, 30_000, 'parked').then(
        () => 'parked' as const,
      );
      if ((await Promise.race([died, parked])) === 'parked') break;
    }
    const [entry] = await deadLetters.list();
    assert.equal(entry?.reason, 'stalled', `parked as stalled after ${starts} starts`);
    assert.equal((entry?.receipt as Record<string, unknown> | undefined)?.['MessageId'], 'poison');
    const runs = async () =>
      (await redis.lrange(listKey, 0, -1)).map(r => JSON.parse(r) as { key: string; redelivered: boolean });
    const poisonRuns = (await runs()).filter(r => r.key === 'poison|Sent');
    assert.equal(poisonRuns.length, 3, 'run three times (three crashes), then parked without running');
    assert.deepEqual(
      poisonRuns.map(r => r.redelivered),
      [false, true, true],
      'ctx.redelivered is false on the first run, true on the reruns after each crash',
    );
    await eventually(
      async () => new Set((await runs()).map(r => r.key)).size === receipts.length,
      30_000,
      'every other receipt handled',
    );
    const smqTotals = () => Object.values(emulator.stats().queues).reduce((n, q) => n + q.deleted, 0);
    await eventually(
      () => smqTotals() === receipts.length,
      30_000,
      'every message deleted, the poison one after it was parked',
    );
    assert.equal(await deadLetters.count(), 1);
  } finally {
    daemon?.kill('SIGTERM');
    if (daemon) await exited(daemon);
    redis.disconnect();
    await emulator.close();
  }
});
