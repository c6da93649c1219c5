import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivateRedis, eventually } from '../helpers/redis.js';
import { recordingHandler } from '../pipeline/harness.js';
import { startRig } from './harness.js';

function statusReceipts(prefix: string, n: number): Record<string, string | number>[] {
  return Array.from({ length: n }, (_, i) => ({ MessageId: `${prefix}-${i}`, Status: 'Sent', Timestamp: 1 }));
}

test('a handler slower than the visibility timeout keeps its lease: no redelivery, deleted with the newest handle', async () => {
  const slow = recordingHandler('slow', { delayMs: 4500 });
  const rig = await startRig([slow], {
    emulator: { visibilityTimeoutSeconds: 2 },
    extra: { smq: { visibilityTimeoutSeconds: 2, leaseLeadMs: 1000 } },
  });
  try {
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('slow', 3) });
    await eventually(() => rig.totals().deleted === 3, 15_000, 'all three deleted');
    const totals = rig.totals();
    assert.equal(totals.received, 3, 'each message was received once: leases were extended in time');
    assert.equal(slow.calls.length, 3);
  } finally {
    await rig.close();
  }
});

test('tokens that expire mid-run, throttling and 5xx answers slow the loop down but lose nothing', async () => {
  const h = recordingHandler('h');
  const rig = await startRig([h], {
    emulator: {
      tokenTtlSeconds: 3,
      faults: {
        throttleRatio: 0.25,
        serverErrorRatio: 0.15,
        actions: ['BatchReceiveMessage', 'BatchDeleteMessage', 'ChangeMessageVisibility'],
      },
    },
  });
  try {
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('f', 30) });
    await new Promise(r => setTimeout(r, 1500));
    assert.ok(rig.emulator.expireTokens() > 0, 'live tokens were revoked');
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('g', 30) });
    await new Promise(r => setTimeout(r, 3500)); // past the 3 s token lifetime: a refresh was needed
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('h', 30) });
    await eventually(
      () => rig.totals().deleted === 90,
      30_000,
      'all 90 messages deleted despite faults',
    ).catch((err: Error) => {
      // A redelivery (received > sent) means some call gave up and the message waited out its visibility.
      const faults = JSON.stringify(rig.emulator.stats().faults);
      throw new Error(`${err.message}; SMQ ${JSON.stringify(rig.totals())}; faults ${faults}`);
    });
    const stats = rig.emulator.stats();
    assert.ok(stats.faults.throttled > 0 && stats.faults.serverErrors > 0, 'faults were injected');
    assert.ok(stats.tokensIssued >= 2, 'tokens were refreshed');
    assert.equal(new Set(h.calls.map(c => c.key)).size, 90);
    assert.equal(h.calls.length, 90, 'no receipt handled twice');
  } finally {
    await rig.close();
  }
});

test('while Redis is away nothing is deleted from SMQ; when it returns every receipt is processed', async () => {
  const redis = await PrivateRedis.start();
  const h = recordingHandler('h');
  const rig = await startRig([h], { redisUrl: redis.url });
  try {
    await redis.stop();
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('r', 20) });
    await eventually(() => rig.totals().received >= 20, 10_000, 'the loop received the messages');
    await new Promise(r => setTimeout(r, 1500));
    assert.equal(rig.totals().deleted, 0, 'nothing deleted while Redis is down');
    await redis.restart();
    await eventually(() => rig.totals().deleted === 20, 30_000, 'all 20 deleted after Redis returned');
    assert.equal(new Set(h.calls.map(c => c.key)).size, 20);
  } finally {
    await rig.close();
    await redis.destroy();
  }
});
