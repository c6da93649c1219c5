import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { Handler } from '../../src/contracts/handler.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, envelope } from './harness.js';

const MESSAGES = 2000;

/** A message's true lifecycle, then what CAMS delivers of it: skips (never the last state), events, repeats. */
function delivered(m: number, random: () => number): { final: string; statuses: string[] } {
  const lifecycles = [
    ['Sent', 'Delivered', 'Read'],
    ['Sent', 'Delivered'],
    ['Sent', 'Failed'],
    ['Failed'],
    ['Sent'],
  ];
  const life = lifecycles[m % lifecycles.length] as string[];
  const final = life[life.length - 1] as string;
  const statuses = life.filter((_, i) => i === life.length - 1 || random() > 0.3);
  if (random() < 0.1) statuses.push('Deleted');
  if (random() < 0.05) statuses.push('subscribe');
  const repeats = statuses.filter(() => random() < 0.25);
  return { final, statuses: [...statuses, ...repeats] };
}

/** A deterministic generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

test('ctx.status over 2000 messages with shuffled, repeated and skipped statuses: each ends in its final state', async t => {
  const random = seeded(15);
  const prefix = uniquePrefix('tracking');
  const db = new Map<string, string>();
  const anomalies: string[] = [];
  const failedOnce = new Set<string>();
  const tracker: Handler<'ChatAppStatus'> = {
    name: 'tracker',
    messageTypes: ['ChatAppStatus'],
    trackStatus: true,
    serializeBy: receipt => receipt.MessageId,
    handle(receipt, ctx) {
      // One in twenty fails its first attempt: the retry must still apply it (or see it is stale).
      if (random() < 0.05 && !failedOnce.has(ctx.dedupeKey)) {
        failedOnce.add(ctx.dedupeKey);
        throw new Error('database away');
      }
      if (ctx.status?.anomaly) anomalies.push(receipt.MessageId);
      if (!ctx.status?.advances) return;
      db.set(receipt.MessageId, receipt.Status);
    },
  };
  const { pipeline, shutdown } = createPipeline([tracker as unknown as Handler], {
    prefix,
    config: { concurrency: 64, backoffDelayMs: 10 },
  });
  const redis = new Redis(redisUrl());
  try {
    await pipeline.waitUntilReady();
    const expected = new Map<string, string>();
    const all = [];
    for (let m = 0; m < MESSAGES; m += 1) {
      const id = `t-${m}`;
      const { final, statuses } = delivered(m, random);
      expected.set(id, final);
      for (const Status of statuses)
        all.push(envelope('ChatAppStatus', { MessageId: id, Status, Timestamp: m }));
    }
    // Shuffled within windows of 64, so a message's statuses arrive close together and in any order.
    for (let i = 0; i < all.length; i += 64) {
      const window = all.slice(i, i + 64).sort(() => random() - 0.5);
      all.splice(i, window.length, ...window);
    }
    for (let i = 0; i < all.length; i += 500) await pipeline.sink.submit(all.slice(i, i + 500));
    const wrong = () => [...expected].filter(([id, final]) => db.get(id) !== final);
    await eventually(() => wrong().length === 0, 100_000, 'every message in its final state');
    assert.deepEqual(wrong(), []);
    assert.deepEqual(anomalies, [], 'no conflicting reports in these lifecycles');
    assert.ok(failedOnce.size > 0, 'some first attempts failed and were retried');
    const sample = await Promise.all(
      ['t-0', 't-1', 't-2', 't-3', 't-4'].map(id => redis.memory('USAGE', `${prefix}:status:${id}`)),
    );
    const bytes = sample.reduce<number>((s, b) => s + Number(b), 0) / sample.length;
    t.diagnostic(`status record: ${bytes} bytes per message (MEMORY USAGE, 5 sampled)`);
    assert.ok(bytes < 400, `a message's status record is small (${bytes} bytes)`);
    const ttl = await redis.ttl(`${prefix}:status:t-0`);
    assert.ok(ttl > 0 && ttl <= 3600, 'expires with the idempotency window');
  } finally {
    shutdown.abort();
    await pipeline.close();
    redis.disconnect();
  }
});
