import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivateRedis, eventually } from '../helpers/redis.js';
import { countingHandler, startRig } from './harness.js';

test('Redis killed for 3 s mid-stream (with AOF): nothing lost, nothing applied twice, and it recovers within seconds', async () => {
  const redis = await PrivateRedis.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const handler = countingHandler(100);
  const rig = await startRig([handler], {
    redisUrl: redis.url,
    extra: { pipeline: { lockDurationMs: 5000, stalledIntervalMs: 1000 }, smq: { backoffMaxMs: 30_000 } },
  });
  const total = 400;
  try {
    await rig.emulator.inject({
      messageType: 'ChatAppStatus',
      receipts: Array.from({ length: total }, (_, i) => ({
        MessageId: `aof-${i}`,
        Status: 'Read',
        Timestamp: 1,
      })),
    });
    await eventually(() => handler.effects.size >= 60, 30_000, 'some receipts handled');
    await rig.redis.set('aof-check', '1');
    await redis.stop();
    const handledAtKill = handler.effects.size;
    await new Promise(r => setTimeout(r, 3_000));
    await redis.restart();
    const back = Date.now();
    assert.equal(await rig.redis.get('aof-check'), '1', 'the restarted Redis replayed its append-only file');
    await eventually(() => handler.effects.size > handledAtKill + 16, 10_000, 'receipts flow again');
    const resumedMs = Date.now() - back;
    await eventually(() => handler.effects.size === total, 60_000, `all ${total} receipts handled`);
    await eventually(
      () => {
        const t = rig.totals();
        return t.deleted >= total && t.inFlight === 0 && t.visible === 0;
      },
      30_000,
      'every SMQ message deleted',
    );
    const doubles = [...handler.effects].filter(([, n]) => n > 1);
    assert.deepEqual(doubles, [], 'no receipt applied twice');
    assert.ok(resumedMs < 10_000, `receipts flowed again ${resumedMs} ms after Redis returned`);
  } finally {
    await rig.close();
    await redis.destroy();
  }
});
