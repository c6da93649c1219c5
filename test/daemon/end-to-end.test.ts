import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { defaultQueueName } from '../../src/emulator/index.js';
import { eventually } from '../helpers/redis.js';
import { recordingHandler } from '../pipeline/harness.js';
import { startRig } from './harness.js';

test('receipts of every type, with duplicates, reach each handler once and the queues end empty', async () => {
  const first = recordingHandler('first');
  const second = recordingHandler('second', { types: ['ChatAppStatus'] });
  const queues = Object.fromEntries(MESSAGE_TYPES.map(t => [t, defaultQueueName(t)]));
  const rig = await startRig([first, second], { emulator: { queues } });
  try {
    let distinct = 0;
    for (const messageType of MESSAGE_TYPES) {
      const receipts = Array.from({ length: 40 }, (_, i) => uniqueReceipt(messageType, i));
      const r = await rig.emulator.inject({ messageType, receipts, duplicateRatio: 0.3 });
      assert.ok(r.duplicates > 0, 'the emulator enqueued some receipts twice');
      distinct += receipts.length;
    }
    await eventually(() => rig.totals().deleted === rig.totals().sent, 20_000, 'every SMQ message deleted');
    const keys = first.calls.map(c => c.key);
    assert.equal(new Set(keys).size, keys.length, 'no receipt handled twice by "first"');
    assert.equal(keys.length, distinct, 'every distinct receipt handled by "first"');
    const statusKeys = second.calls.map(c => c.key);
    assert.equal(new Set(statusKeys).size, statusKeys.length);
    assert.equal(statusKeys.length, 40, '"second" handles only ChatAppStatus, each once');
    const totals = rig.totals();
    assert.equal(totals.inFlight, 0);
    assert.equal(totals.visible, 0);
  } finally {
    await rig.close();
  }
});

test('a handler that always fails dead-letters the receipt and its SMQ message is deleted', async () => {
  const broken = recordingHandler('broken', { failures: 99 });
  const rig = await startRig([broken]);
  try {
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: [statusReceipt('dl-1')] });
    await eventually(() => rig.totals().deleted === 1, 15_000, 'the message deleted after dead-lettering');
    assert.equal(broken.calls.length, 3, 'attempts exhausted');
    const dlq = await rig.redis.hgetall(`${rig.config.redis.prefix}:dlq:entries`);
    const entries = Object.values(dlq).map(v => JSON.parse(v) as { reason: string; error: string });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.reason, 'failed');
    assert.match(entries[0]?.error ?? '', /transient failure/);
  } finally {
    await rig.close();
  }
});

test('a handler that fails twice then succeeds is handled, and the message deleted once', async () => {
  const flaky = recordingHandler('flaky', { failures: 2 });
  const rig = await startRig([flaky]);
  try {
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: [statusReceipt('fl-1')] });
    await eventually(() => rig.totals().deleted === 1, 15_000, 'the message deleted');
    assert.deepEqual(
      flaky.calls.map(c => c.attempt),
      [1, 2, 3],
    );
    assert.equal(await rig.redis.hlen(`${rig.config.redis.prefix}:dlq:entries`), 0);
  } finally {
    await rig.close();
  }
});

test('a body that is neither Base64 nor JSON is parked in the dead-letter store, then deleted', async () => {
  const h = recordingHandler('h');
  const rig = await startRig([h]);
  try {
    await rig.emulator.inject({ messageType: 'ChatAppInbound', bodies: ['%%% not a receipt %%%'] });
    await eventually(() => rig.totals().deleted === 1, 15_000, 'the poison message deleted');
    const dlq = await rig.redis.hgetall(`${rig.config.redis.prefix}:dlq:entries`);
    const entries = Object.values(dlq).map(
      v => JSON.parse(v) as { reason: string; raw: string; smq?: object },
    );
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.reason, 'decode');
    assert.equal(entries[0]?.raw, '%%% not a receipt %%%');
    assert.ok(entries[0]?.smq, 'SMQ metadata kept');
    assert.equal(h.calls.length, 0);
  } finally {
    await rig.close();
  }
});

function statusReceipt(id: string): Record<string, string | number> {
  return { MessageId: id, Status: 'Delivered', From: '861', To: '862', Timestamp: Date.now() };
}

function uniqueReceipt(type: string, i: number): Record<string, string | number> {
  if (type === 'ChatAppStatus')
    return { MessageId: `st-${i}`, Status: i % 2 ? 'Read' : 'Delivered', Timestamp: 1 };
  if (type === 'ChatAppInbound')
    return { MessageId: `in-${i}`, Type: 'TEXT', Message: `hello ${i}`, From: '1' };
  if (type === 'SmsReport') return { biz_id: `biz-${i}`, phone_number: '13800000000', success: 'true' };
  if (type === 'SmsUp') return { sequence_id: 1000 + i, phone_number: '13800000000', content: 'TD' };
  return { WabaId: 'w1', TemplateCode: `tpl-${i}`, Language: 'en_US', AuditStatus: 'pass', Type: 'template' };
}
