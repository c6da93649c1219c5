import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { Logger } from '../../src/contracts/logger.js';
import { PrivateRedis, eventually, freePort } from '../helpers/redis.js';
import { countingHandler, startRig } from './harness.js';

/** Fills Redis with filler keys until it refuses writes; returns their names. */
async function fill(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  const chunk = 'x'.repeat(64 * 1024);
  for (;;) {
    const key = `filler:${keys.length}`;
    try {
      await redis.set(key, chunk);
    } catch (err) {
      assert.match(String(err), /OOM/);
      // At the very edge a small write may still pass now and then: leave a margin of 2 MB.
      const used = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
      await redis.config('SET', 'maxmemory', String(used - 2 * 1024 * 1024));
      return keys;
    }
    keys.push(key);
  }
}

function recordingLogger(lines: { level: string; message: string; event?: unknown }[]): Logger {
  const wrap = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    void lines.push({ level, message, event: meta?.['event'] });
  return {
    log: (level, message, meta) => wrap(level)(message, meta),
    error: wrap('error'),
    warn: wrap('warn'),
    info: wrap('info'),
    debug: wrap('debug'),
    isDebugEnabled: () => false,
    child: () => recordingLogger(lines),
  };
}

test('Redis full under noeviction: 503 from /readyz and HTTP push, receipts stay in SMQ, then all handled once', async () => {
  const redis = await PrivateRedis.start({
    args: ['--maxmemory', '24mb', '--maxmemory-policy', 'noeviction'],
  });
  const admin = new Redis(redis.url);
  const handler = countingHandler(0);
  const port = await freePort();
  const rig = await startRig([handler], { redisUrl: redis.url, extra: { http: { port } } });
  const base = `http://127.0.0.1:${port}`;
  const total = 50;
  try {
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const fillers = await fill(admin);
    await rig.emulator.inject({
      messageType: 'ChatAppStatus',
      receipts: Array.from({ length: total }, (_, i) => ({
        MessageId: `full-${i}`,
        Status: 'Read',
        Timestamp: 1,
      })),
    });
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /Redis is full/);
    const push = await fetch(`${base}/appstatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ MessageId: 'pushed-1', Status: 'Read', From: '1', To: '2', Timestamp: 1 }]),
    });
    assert.equal(push.status, 503);
    // Polled meanwhile, but nothing is deleted while Redis refuses the receipts.
    await eventually(() => rig.totals().received > 0, 10_000, 'the loop to receive');
    await new Promise(r => setTimeout(r, 1500));
    assert.equal(rig.totals().deleted, 0);
    assert.equal(handler.effects.size, 0);

    for (let i = 0; i < fillers.length; i += 100) await admin.del(...fillers.slice(i, i + 100));
    await admin.config('SET', 'maxmemory', String(24 * 1024 * 1024));
    await eventually(
      () => handler.effects.size === total,
      60_000,
      `all ${total} receipts handled (${handler.effects.size}, ${JSON.stringify(rig.totals())})`,
    );
    await eventually(() => rig.totals().deleted >= total, 30_000, 'every SMQ message deleted');
    assert.deepEqual(
      [...handler.effects].filter(([, n]) => n > 1),
      [],
      'none applied twice',
    );
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  } finally {
    await rig.close();
    admin.disconnect();
    await redis.destroy();
  }
});

test('a Redis that may evict keys is named at start-up', async () => {
  const redis = await PrivateRedis.start({
    args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
  });
  const lines: { level: string; message: string; event?: unknown }[] = [];
  const rig = await startRig([countingHandler(0)], { redisUrl: redis.url, logger: recordingLogger(lines) });
  try {
    const warning = lines.find(l => l.event === 'redis_eviction_policy');
    assert.ok(warning, `a redis_eviction_policy warning in ${JSON.stringify(lines)}`);
    assert.equal(warning.level, 'warn');
    assert.match(warning.message, /allkeys-lru, not noeviction/);
  } finally {
    await rig.close();
    await redis.destroy();
  }
});
