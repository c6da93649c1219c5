import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, PrivateRedis } from '../helpers/redis.js';
import { statusBatch } from './fixtures.js';
import { callsPerKey, json, push, SUCCESS, startReceiver } from './helpers.js';

let redis: PrivateRedis;
before(async () => {
  redis = await PrivateRedis.start();
});
after(async () => {
  await redis.destroy();
});

test('Redis stopped: 503 so CAMS retries; after a restart the retried post is stored and handled once', async () => {
  const r = await startReceiver({ redisUrl: redis.url, storeTimeoutMs: 1500 });
  try {
    const batch = [...statusBatch('outage', 5), { MessageId: 'outage-bad' }];
    await redis.stop();
    const started = Date.now();
    const down = await push(r.url, '/appstatus', batch);
    assert.equal(down.status, 503);
    assert.equal((json(down) as { code: number }).code, 1);
    assert.ok(Date.now() - started < 3000, 'the 503 comes well within CAMS’s 3 s');
    assert.ok(r.logs.some(l => l.event === 'push_store_failed' && l['receipts'] === 5));

    await redis.restart();
    let retried = down;
    await eventually(
      async () => {
        retried = await push(r.url, '/appstatus', batch);
        return retried.status === 200;
      },
      20_000,
      'the retried post to succeed',
    );
    assert.deepEqual(json(retried), SUCCESS);
    await eventually(() => r.handler.calls.length >= 5, 10_000, 'the five receipts handled');
    await new Promise(res => setTimeout(res, 200));
    assert.equal(r.handler.calls.length, 5);
    assert.ok([...callsPerKey(r.handler.calls).values()].every(n => n === 1));
    const parked = await r.pipeline.deadLetters.list({ type: 'ChatAppStatus' });
    assert.equal(parked.length, 1, 'the invalid item is parked once (the failed attempt stored nothing)');
  } finally {
    await r.close();
  }
});

test('Redis too slow: 503 within the store timeout, never 200 for what is not stored', async () => {
  const r = await startReceiver({ redisUrl: redis.url, storeTimeoutMs: 300 });
  const admin = await import('ioredis').then(m => new m.Redis(redis.url));
  try {
    // Block writes for 3 s: the batch cannot be acknowledged in time.
    await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
    const started = Date.now();
    const res = await push(r.url, '/appstatus', statusBatch('slow', 3));
    assert.equal(res.status, 503);
    assert.ok(Date.now() - started < 2500, 'replied at the store timeout, not when Redis came back');
    // The write landed once Redis resumed; the retry CAMS makes is then a no-op duplicate.
    await eventually(
      async () => (await push(r.url, '/appstatus', statusBatch('slow', 3))).status === 200,
      10_000,
      'retry ok',
    );
    await eventually(() => r.handler.calls.length >= 3, 10_000, 'three receipts handled');
    await new Promise(res => setTimeout(res, 200));
    assert.equal(r.handler.calls.length, 3);
  } finally {
    admin.disconnect();
    await r.close();
  }
});
