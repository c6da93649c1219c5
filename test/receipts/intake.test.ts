import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intakeBody } from '../../src/receipts/intake.js';

const status = (id: string) => ({ MessageId: id, Status: 'Delivered', Timestamp: 1691043638000 });

test('an SMQ body (Base64 of JSON) becomes envelopes carrying its origin', () => {
  const body = Buffer.from(JSON.stringify([status('m1')])).toString('base64');
  const intake = intakeBody('ChatAppStatus', body, {
    source: 'smq',
    queueName: 'q',
    originTimeMs: 42,
    redelivered: true,
  });
  assert.ok(intake.decoded);
  const [item] = intake.items;
  assert.ok(item && 'envelope' in item);
  assert.deepEqual(
    { ...item.envelope, receipt: undefined },
    {
      messageType: 'ChatAppStatus',
      receipt: undefined,
      source: 'smq',
      queueName: 'q',
      originTimeMs: 42,
      redelivered: true,
    },
  );
  assert.equal(item.envelope.receipt['MessageId'], 'm1');
});

test('a push body is read as JSON, and each item is a receipt or the reason it is not', () => {
  const intake = intakeBody('ChatAppStatus', JSON.stringify([status('a'), { Status: 'Sent' }]), {
    source: 'http',
    originTimeMs: 7,
  });
  assert.ok(intake.decoded);
  assert.deepEqual(
    intake.items.map(i => ('envelope' in i ? 'receipt' : `${i.index}: ${i.reason}`)),
    ['receipt', `1: ${(intake.items[1] as { reason: string }).reason}`],
  );
  assert.match((intake.items[1] as { reason: string }).reason, /MessageId/);
  assert.equal('envelope' in intake.items[0]! && 'queueName' in intake.items[0].envelope, false);
});

test('a body that does not decode says why, for either source', () => {
  const smq = intakeBody('ChatAppStatus', '%%% not base64 nor json', { source: 'smq', originTimeMs: 0 });
  const http = intakeBody('ChatAppStatus', '{"unterminated', { source: 'http', originTimeMs: 0 });
  assert.equal(smq.decoded, false);
  assert.equal(http.decoded, false);
  assert.ok(!smq.decoded && smq.reason.length > 0 && !http.decoded && http.reason.length > 0);
});
