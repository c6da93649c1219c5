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

test('a receipt that crashes the daemon on every run ends in the dead-letter store as stalled, never deleted unhandled', async t => {
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
    const parkedIds = async () =>
      new Map(
        (await deadLetters.list()).map(e => [
          String((e.receipt as Record<string, unknown> | undefined)?.['MessageId']),
          e,
        ]),
      );
    while (!(await parkedIds()).has('poison') && starts < 5) {
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
      const parked = eventually(async () => (await parkedIds()).has('poison'), 30_000, 'parked').then(
        () => 'parked' as const,
      );
      if ((await Promise.race([died, parked])) === 'parked') break;
    }
    const parked = await parkedIds();
    assert.equal(parked.get('poison')?.reason, 'stalled', `parked as stalled after ${starts} starts`);
    const runs = async () =>
      (await redis.lrange(listKey, 0, -1)).map(r => JSON.parse(r) as { key: string; redelivered: boolean });
    const poisonRuns = (await runs()).filter(r => r.key === 'poison|Sent');
    assert.equal(poisonRuns.length, 3, 'run three times (three crashes), then parked without running');
    assert.deepEqual(
      poisonRuns.map(r => r.redelivered),
      [false, true, true],
      'ctx.redelivered is false on the first run, true on the reruns after each crash',
    );
    // Every receipt is handled or parked; none is simply gone.
    for (const [id, entry] of parked) assert.equal(entry.reason, 'stalled', `${id} parked as stalled`);
    const settled = async () => {
      const handled = new Set((await runs()).map(r => r.key.split('|')[0]));
      return receipts.filter(r => handled.has(r.MessageId) || parked.has(r.MessageId)).length;
    };
    await eventually(
      async () => (await settled()) === receipts.length,
      30_000,
      'every receipt handled or parked',
    );
    const deleted = () => Object.values(emulator.stats().queues).reduce((n, q) => n + q.deleted, 0);
    await eventually(
      () => deleted() === receipts.length,
      30_000,
      'every message deleted, the parked ones after they were parked',
    );
    const innocent = [...parked.keys()].filter(id => id !== 'poison');
    t.diagnostic(`${starts} starts; parked beside the poison: ${innocent.length} (${innocent.join(', ')})`);
    // Receipts that stalled once run one at a time afterwards, so those caught in the first crash beside the
    // poison are not caught in the next two.
    assert.deepEqual(innocent, [], 'no receipt parked beside the poison');
  } finally {
    daemon?.kill('SIGTERM');
    if (daemon) await exited(daemon);
    redis.disconnect();
    await emulator.close();
  }
});
