import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from '../../src/smq/lease-keeper.js';
import { toDelivery } from '../../src/smq/delivery.js';
import type { SmqMessage } from '../../src/smq/types.js';
import { statusBody } from './fake-pipeline.js';

const lease = {} as Lease;

function message(dequeueCount: number): SmqMessage {
  return {
    messageId: 'M1',
    receiptHandle: 'h',
    body: statusBody('m1'),
    bodyMd5: '',
    enqueueTimeMs: 1_000,
    firstDequeueTimeMs: 1_000,
    nextVisibleTimeMs: 2_000,
    dequeueCount,
    priority: 8,
  };
}

test('a message received for the first time carries no redelivered mark; one received before does', () => {
  const first = toDelivery(message(1), lease, 'ChatAppStatus', 'q');
  assert.equal(first.envelopes[0]?.redelivered, undefined);
  const again = toDelivery(message(2), lease, 'ChatAppStatus', 'q');
  assert.equal(again.envelopes[0]?.redelivered, true, 'DequeueCount 2: an earlier receive may have run it');
  assert.equal(again.envelopes[0]?.originTimeMs, 1_000);
});
