import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { eventually, freePort, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { writeConfigDir } from './harness.js';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));
const RECORDER = fileURLToPath(new URL('../fixtures/handlers/recorder.mjs', import.meta.url));

function startDaemon(
  configDir: string,
  { level = 'warn', redisUrl: url }: { level?: string; redisUrl?: string } = {},
): ChildProcess & { output: string[] } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    CAMS_LOG_LEVEL: level,
    LOG_LEVEL: level,
  };
  if (url) env['REDIS_URL'] = url;
  const child = spawn(process.execPath, [BIN, 'start', '--config', configDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (d: Buffer) => child.output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => child.output.push(d.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function receipts(prefix: string, n: number): Record<string, string | number>[] {
  return Array.from({ length: n }, (_, i) => ({
    MessageId: `${prefix}-${i}`,
    Status: 'Delivered',
    Timestamp: 1,
  }));
}

async function setup(
  delayMs: number,
  concurrency: number,
): Promise<{
  emulator: EmulatorHandle;
  configDir: string;
  redis: Redis;
  listKey: string;
}> {
  const emulator = await startEmulator({ port: 0, visibilityTimeoutSeconds: 3 });
  const listKey = `${uniquePrefix('effects')}:effects`;
  const configDir = writeConfigDir(emulator, {
    redisUrl: redisUrl(),
    prefix: uniquePrefix('proc'),
    handlers: [{ module: RECORDER, options: { redisUrl: redisUrl(), listKey, delayMs } }],
    extra: {
      smq: { visibilityTimeoutSeconds: 3, leaseLeadMs: 1000, maxInFlight: 64 },
      pipeline: { concurrency, lockDurationMs: 3000, stalledIntervalMs: 1000 },
      shutdown: { drainTimeoutMs: 8000 },
    },
  });
  return { emulator, configDir, redis: new Redis(redisUrl()), listKey };
}

test('kill -9 mid-stream, then a restart: every receipt is processed, and re-runs stay within what was in flight', async () => {
  const concurrency = 16;
  const { emulator, configDir, redis, listKey } = await setup(20, concurrency);
  const first = startDaemon(configDir);
  let second: ChildProcess | undefined;
  try {
    await emulator.inject({ messageType: 'ChatAppStatus', receipts: receipts('k', 400) });
    await eventually(
      async () => (await redis.llen(listKey)) >= 80,
      30_000,
      'the first daemon handled some receipts',
    );
    first.kill('SIGKILL');
    await exited(first);
    const beforeRestart = await redis.llen(listKey);
    assert.ok(beforeRestart < 400, 'the kill landed mid-stream');
    second = startDaemon(configDir);
    const restarted = second as ChildProcess & { output: string[] };
    await eventually(
      async () => new Set((await redis.lrange(listKey, 0, -1)).map(e => e.split('|')[1])).size === 400,
      40_000,
      'all 400 receipts handled after the restart',
    ).catch(async (err: Error) => {
      const seen = new Set((await redis.lrange(listKey, 0, -1)).map(e => e.split('|')[1])).size;
      throw new Error(
        `${err.message}; handled ${seen}; SMQ ${JSON.stringify(emulator.stats().queues)}; log:\n${restarted.output.join('').slice(-3000)}`,
      );
    });
    await eventually(
      () =>
        Object.values(emulator.stats().queues).every(
          q => q.deleted >= q.sent - 0 && q.visible === 0 && q.inFlight === 0,
        ),
      20_000,
      'SMQ empty',
    );
    const effects = (await redis.lrange(listKey, 0, -1)).map(e => e.split('|') as [string, string]);
    const byKey = new Map<string, string[]>();
    for (const [pid, key] of effects) byKey.set(key, [...(byKey.get(key) ?? []), pid]);
    const repeated = [...byKey].filter(([, pids]) => pids.length > 1);
    // Only receipts whose handler was running when the process died may run again; never more than once per process.
    assert.ok(repeated.length <= concurrency, `at most ${concurrency} re-runs, got ${repeated.length}`);
    for (const [key, pids] of repeated) {
      assert.equal(new Set(pids).size, pids.length, `${key} ran twice in one process`);
      assert.equal(pids[0], String(first.pid), `${key}: the first run was in the killed process`);
    }
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGTERM');
    if (second) await exited(second);
    redis.disconnect();
    await emulator.close();
  }
});

test('SIGTERM under load: the daemon drains and exits 0 within the deadline, and loses nothing', async () => {
  const { emulator, configDir, redis, listKey } = await setup(50, 8);
  const daemon = startDaemon(configDir);
  let again: ChildProcess | undefined;
  try {
    await emulator.inject({ messageType: 'ChatAppStatus', receipts: receipts('t', 300) });
    await eventually(async () => (await redis.llen(listKey)) >= 30, 30_000, 'the daemon is busy');
    const sentAt = Date.now();
    daemon.kill('SIGTERM');
    const { code } = await exited(daemon);
    const tookMs = Date.now() - sentAt;
    assert.equal(code, 0, `clean exit; output:\n${daemon.output.join('')}`);
    assert.ok(tookMs < 8000 + 3000, `exited within the drain deadline (${tookMs} ms)`);
    const handled = await redis.lrange(listKey, 0, -1);
    assert.equal(new Set(handled).size, handled.length, 'nothing handled twice during the drain');
    again = startDaemon(configDir);
    await eventually(
      async () => new Set((await redis.lrange(listKey, 0, -1)).map(e => e.split('|')[1])).size === 300,
      40_000,
      'the rest handled after a restart',
    );
    const all = (await redis.lrange(listKey, 0, -1)).map(e => e.split('|')[1]);
    assert.equal(all.length, 300, 'a drained shutdown re-runs nothing');
  } finally {
    daemon.kill('SIGKILL');
    again?.kill('SIGTERM');
    if (again) await exited(again);
    redis.disconnect();
    await emulator.close();
  }
});

test('SIGTERM while the daemon waits for Redis at start-up: it stops within two seconds, logged, exit 0', async () => {
  const emulator = await startEmulator({ port: 0 });
  const nowhere = `redis://127.0.0.1:${await freePort()}`;
  const configDir = writeConfigDir(emulator, { redisUrl: nowhere, prefix: uniquePrefix('nowhere') });
  const daemon = startDaemon(configDir, { level: 'info', redisUrl: nowhere });
  try {
    await eventually(
      () => daemon.output.join('').includes('"event":"redis_waiting"'),
      15_000,
      'the daemon waits for Redis',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; output:\n${daemon.output.join('')}`);
    });
    const sentAt = Date.now();
    daemon.kill('SIGTERM');
    const { code } = await exited(daemon);
    const tookMs = Date.now() - sentAt;
    assert.equal(code, 0, `exit 0; output:\n${daemon.output.join('')}`);
    assert.ok(tookMs < 2_000, `stopped ${tookMs} ms after SIGTERM`);
    assert.match(daemon.output.join(''), /"event":"startup_aborted"/);
  } finally {
    daemon.kill('SIGKILL');
    await emulator.close();
  }
});
