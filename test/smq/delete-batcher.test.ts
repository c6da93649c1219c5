import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SmqError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DeleteBatcher } from '../../src/smq/delete-batcher.js';
import { FakeQueue } from './fake-queue.js';

async function received(queue: FakeQueue, n: number): Promise<string[]> {
  for (let i = 0; i < n; i += 1) queue.send(`m${i}`);
  const handles: string[] = [];
  while (handles.length < n) {
    const batch = await queue.receive(16, 0);
    handles.push(...batch.map(m => m.receiptHandle));
  }
  return handles;
}

function batcher(queue: FakeQueue, flushMs = 60_000): DeleteBatcher {
  return new DeleteBatcher({
    client: queue,
    flushMs,
    logger: silentLogger(),
    retryBaseMs: 10,
    retryMaxMs: 20,
  });
}

function counter(b: DeleteBatcher): { deleted: number; failed: Map<string, number> } {
  const out = { deleted: 0, failed: new Map<string, number>() };
  b.on('deleted', e => (out.deleted += e.count));
  b.on('delete_failed', e => out.failed.set(e.code, (out.failed.get(e.code) ?? 0) + e.count));
  return out;
}

test('sends full batches of 16 at once and the rest on flush', async () => {
  const queue = new FakeQueue();
  const handles = await received(queue, 40);
  const b = batcher(queue);
  const counts = counter(b);
  for (const h of handles) b.add(h);
  await delay(20);
  assert.deepEqual(
    queue.deleteBatches.map(x => x.length),
    [16, 16],
    'two full batches went out without waiting for the timer',
  );
  assert.equal(b.pending, 8);
  await b.flush();
  assert.deepEqual(
    queue.deleteBatches.map(x => x.length),
    [16, 16, 8],
  );
  assert.equal(counts.deleted, 40);
  assert.equal(queue.size, 0);
  assert.equal(b.pending, 0);
});

test('a partial batch goes out after flushMs', async () => {
  const queue = new FakeQueue();
  const handles = await received(queue, 3);
  const b = batcher(queue, 50);
  for (const h of handles) b.add(h);
  assert.equal(queue.calls.deleteBatch, 0);
  await delay(200);
  assert.deepEqual(
    queue.deleteBatches.map(x => x.length),
    [3],
  );
  assert.equal(queue.size, 0);
});

test('per-entry failures are counted by code, the rest deleted', async () => {
  const queue = new FakeQueue();
  const handles = await received(queue, 4);
  const b = batcher(queue);
  const counts = counter(b);
  b.add(handles[0]!);
  b.add('stale-handle-1');
  b.add(handles[1]!);
  b.add('stale-handle-2');
  await b.flush();
  assert.equal(counts.deleted, 2);
  assert.equal(counts.failed.get('MessageNotExist'), 2);
  assert.equal(queue.size, 2);
});

test('a transient whole-call failure is retried; a permanent one is reported', async () => {
  const queue = new FakeQueue();
  const handles = await received(queue, 4);
  const b = batcher(queue);
  const counts = counter(b);
  queue.failNext('deleteBatch', new SmqError('throttled', 'throttled', 'TooManyRequests'), 2);
  b.add(handles[0]!);
  b.add(handles[1]!);
  await b.flush();
  assert.equal(queue.calls.deleteBatch, 3);
  assert.equal(counts.deleted, 2);
  queue.failNext('deleteBatch', new SmqError('no queue', 'queue_missing', 'QueueNotExist'));
  b.add(handles[2]!);
  await b.flush();
  assert.equal(queue.calls.deleteBatch, 4, 'not retried');
  assert.equal(counts.failed.get('QueueNotExist'), 1);
  queue.failNext('deleteBatch', new SmqError('reset', 'network'), 10);
  b.add(handles[3]!);
  await b.flush();
  assert.equal(queue.calls.deleteBatch, 12, 'gave up after 8 attempts');
  assert.equal(counts.failed.get('network'), 1);
});
