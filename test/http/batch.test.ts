import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '../../src/errors.js';
import { acceptBatch, type BatchStores } from '../../src/http/batch.js';
import type { DeadLetterInput, ReceiptEnvelope } from '../../src/receipts/envelope.js';

// Pure logic: the stores are injected fakes (the HTTP tests run the real ones on Redis).
function fakeStores(overrides: Partial<BatchStores> = {}) {
  const submitted: ReceiptEnvelope[][] = [];
  const parked: DeadLetterInput[] = [];
  const stores: BatchStores = {
    sink: {
      submit: async envelopes => {
        submitted.push([...envelopes]);
        return envelopes.map((_, i) => ({ jobId: `j${i}`, finished: false }));
      },
    },
    deadLetters: {
      park: async entry => {
        parked.push(entry);
        return `d${parked.length}`;
      },
    },
    storeTimeoutMs: 1000,
    ...overrides,
  };
  return { stores, submitted, parked };
}

test('valid receipts become http envelopes stamped with the arrival time, in one submit', async () => {
  const { stores, submitted, parked } = fakeStores();
  const body = JSON.stringify([
    { MessageId: 'a', Status: 'Sent' },
    { MessageId: 'b', Status: 'Read', ErrorCode: 131026 },
  ]);
  const outcome = await acceptBatch('ChatAppStatus', body, 1234, stores);
  assert.deepEqual(outcome, { kind: 'stored', receipts: 2, invalid: [] });
  assert.equal(submitted.length, 1);
  assert.deepEqual(
    submitted[0]?.map(e => [e.messageType, e.source, e.originTimeMs, e.queueName]),
    [
      ['ChatAppStatus', 'http', 1234, undefined],
      ['ChatAppStatus', 'http', 1234, undefined],
    ],
  );
  assert.equal(
    submitted[0]?.[1]?.receipt['ErrorCode'],
    '131026',
    'validated (normalised) receipts are stored',
  );
  assert.equal(parked.length, 0);
});

test('invalid items are parked with their index, reason and raw JSON; an all-invalid batch submits nothing', async () => {
  const { stores, submitted, parked } = fakeStores();
  const outcome = await acceptBatch('ChatAppInbound', '[{"Type":"TEXT"}, [1,2], null]', 0, stores);
  assert.equal(outcome.kind, 'stored');
  assert.deepEqual(outcome.kind === 'stored' ? outcome.invalid.map(i => i.index) : [], [0, 1, 2]);
  assert.equal(submitted.length, 0);
  assert.deepEqual(
    parked.map(p => [p.reason, p.source, p.messageType, p.raw]),
    [
      ['invalid', 'http', 'ChatAppInbound', '{"Type":"TEXT"}'],
      ['invalid', 'http', 'ChatAppInbound', '[1,2]'],
      ['invalid', 'http', 'ChatAppInbound', 'null'],
    ],
  );
  assert.match(parked[0]?.error ?? '', /MessageId/);
});

test('a body that is not JSON stores nothing', async () => {
  const { stores, submitted, parked } = fakeStores();
  const outcome = await acceptBatch('ChatAppAudit', '<xml/>', 0, stores);
  assert.equal(outcome.kind, 'not_json');
  assert.equal(submitted.length + parked.length, 0);
});

test('a sink failure, a park failure, or a store slower than the deadline is store_failed', async () => {
  const body = '[{"MessageId":"a","Status":"Sent"},{"nope":1}]';
  const failingSink = fakeStores({
    sink: {
      submit: async () => {
        throw new StoreError('redis down');
      },
    },
  });
  assert.deepEqual(await acceptBatch('ChatAppStatus', body, 0, failingSink.stores), {
    kind: 'store_failed',
    receipts: 1,
    invalid: [{ index: 1, reason: 'ChatAppStatus receipt is missing MessageId' }],
    error: 'redis down',
  });

  const failingPark = fakeStores({
    deadLetters: {
      park: async () => {
        throw new StoreError('dlq down');
      },
    },
  });
  const parkOutcome = await acceptBatch('ChatAppStatus', body, 0, failingPark.stores);
  assert.equal(parkOutcome.kind, 'store_failed');

  const hanging = fakeStores({ sink: { submit: () => new Promise(() => undefined) }, storeTimeoutMs: 50 });
  const keepAlive = setInterval(() => undefined, 10); // the deadline timer is unref'd
  const slow = await acceptBatch('ChatAppStatus', body, 0, hanging.stores).finally(() =>
    clearInterval(keepAlive),
  );
  assert.equal(slow.kind, 'store_failed');
  assert.match(slow.kind === 'store_failed' ? slow.error : '', /within 50 ms/);
});
