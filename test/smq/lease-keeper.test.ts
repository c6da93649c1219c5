import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SmqError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { LeaseKeeper, type LeaseKeeperOptions } from '../../src/smq/lease-keeper.js';
import { FakeQueue } from './fake-queue.js';

function keeper(queue: FakeQueue, overrides: Partial<LeaseKeeperOptions> = {}): LeaseKeeper {
  return new LeaseKeeper({
    client: queue,
    visibilityTimeoutSeconds: 1,
    leaseLeadMs: 700,
    maxLeaseMs: 60_000,
    tickMs: 25,
    logger: silentLogger(),
    ...overrides,
  });
}

async function receiveOne(queue: FakeQueue) {
  const [message] = await queue.receive(1, 0);
  assert.ok(message);
  return message;
}

test('extends before expiry, and release returns the newest handle, which deletes', async () => {
  const queue = new FakeQueue(1);
  queue.send('a');
  const leases = keeper(queue);
  const message = await receiveOne(queue);
  const lease = leases.track(message);
  let extended = 0;
  leases.on('extended', () => (extended += 1));
  await delay(2_300);
  assert.equal(queue.visibleCount(), 0, 'the message stayed invisible past its first visibility');
  assert.ok(extended >= 2, `extended ${extended} times`);
  const handle = await leases.release(lease);
  assert.notEqual(handle, message.receiptHandle);
  assert.equal(handle, queue.handleOf(message.messageId));
  assert.deepEqual(await queue.deleteBatch([handle!]), []);
  assert.equal(queue.size, 0);
  assert.equal(leases.size, 0);
});

test('no extension happens after release', async () => {
  const queue = new FakeQueue(1);
  queue.send('a');
  const leases = keeper(queue);
  const message = await receiveOne(queue);
  const lease = leases.track(message);
  assert.equal(await leases.release(lease), message.receiptHandle);
  await delay(1_200);
  assert.equal(queue.calls.changeVisibility, 0);
});

test('release during an extension in flight waits for it and returns the handle it produced', async () => {
  // A visibility far longer than the extension's latency, so a slow, shared CI machine cannot expire it.
  const queue = new FakeQueue(5);
  queue.send('a');
  const leases = keeper(queue, { visibilityTimeoutSeconds: 5, leaseLeadMs: 4900 });
  const message = await receiveOne(queue);
  queue.latencyMs = 300;
  const lease = leases.track(message);
  await delay(150); // the first tick has started a ChangeMessageVisibility that takes 300 ms
  assert.equal(queue.calls.changeVisibility, 1);
  const handle = await leases.release(lease);
  assert.equal(handle, queue.handleOf(message.messageId), 'not the handle the extension replaced');
  queue.latencyMs = 0;
  assert.deepEqual(await queue.deleteBatch([handle!]), []);
  await delay(300);
  assert.equal(queue.calls.changeVisibility, 1, 'nothing extended after release');
});

test('stops extending at maxLeaseMs, asks only for what is left, and reports the lease lost', async () => {
  const queue = new FakeQueue(1);
  queue.send('a');
  const leases = keeper(queue, { visibilityTimeoutSeconds: 30, leaseLeadMs: 800, maxLeaseMs: 1_500 });
  const message = await receiveOne(queue);
  const lease = leases.track(message);
  await once(leases, 'extended');
  // The extension asked for ceil(what is left of 1.5 s), not the configured 30 s.
  assert.ok(queue.lastVisibilitySeconds! <= 2, `asked for ${queue.lastVisibilitySeconds} s`);
  const [expired] = (await once(leases, 'expired')) as [{ reason: string }];
  assert.equal(expired.reason, 'max_lease');
  assert.ok(lease.interruptedBy);
  await assert.rejects(lease.interrupted, /lease lost/);
  assert.equal(queue.visibleCount(), 1, 'the message is visible again, to redeliver');
  assert.equal(await leases.release(lease), undefined);
});

test('a dead handle (MessageNotExist on extension) drops the lease locally', async () => {
  const queue = new FakeQueue(1);
  queue.send('a');
  const leases = keeper(queue);
  const lease = leases.track(await receiveOne(queue));
  queue.failNext('changeVisibility', new SmqError('gone', 'empty', 'MessageNotExist'));
  const [expired] = (await once(leases, 'expired')) as [{ reason: string }];
  assert.equal(expired.reason, 'handle_lost');
  assert.ok(lease.interruptedBy);
  await assert.rejects(lease.interrupted, /lease lost/);
  assert.equal(await leases.release(lease), undefined);
});

test('transient extension failures are retried; once visibility passed the lease is dropped', async () => {
  const queue = new FakeQueue(1);
  queue.send('a');
  const leases = keeper(queue);
  const lease = leases.track(await receiveOne(queue));
  queue.failNext('changeVisibility', new SmqError('reset', 'network'), 1_000);
  let failures = 0;
  leases.on('extend_failed', () => (failures += 1));
  const [expired] = (await once(leases, 'expired')) as [{ reason: string }];
  assert.equal(expired.reason, 'visibility_passed');
  assert.ok(failures >= 2, `retried ${failures} times`);
  assert.ok(lease.interruptedBy);
  await assert.rejects(lease.interrupted, /lease lost/);
});
