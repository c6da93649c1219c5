import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '../../src/errors.js';
import { CoalescingSink } from '../../src/http/coalescing-sink.js';
import type { ReceiptEnvelope } from '../../src/receipts/envelope.js';
import type { ReceiptSink } from '../../src/contracts/pipeline.js';
import { statusEnvelope } from '../pipeline/harness.js';

// Pure logic over an injected fake sink; the HTTP tests run it over the real pipeline.
function recordingSink(fail?: Error): ReceiptSink & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async submit(envelopes: readonly ReceiptEnvelope[]) {
      calls.push(envelopes.map(e => String(e.receipt['MessageId'])));
      if (fail) throw fail;
      return envelopes.map(e => ({ jobId: `job-${String(e.receipt['MessageId'])}`, finished: false }));
    },
  };
}

const batch = (tag: string, n: number) => Array.from({ length: n }, (_, i) => statusEnvelope(`${tag}${i}`));

test('submits made in the same turn share one write, and each caller gets its own results in order', async () => {
  const inner = recordingSink();
  const sink = new CoalescingSink(inner);
  const [a, b, c] = await Promise.all([
    sink.submit(batch('a', 2)),
    sink.submit(batch('b', 3)),
    sink.submit(batch('c', 1)),
  ]);
  assert.deepEqual(inner.calls, [['a0', 'a1', 'b0', 'b1', 'b2', 'c0']]);
  assert.deepEqual(
    a?.map(r => r.jobId),
    ['job-a0', 'job-a1'],
  );
  assert.deepEqual(
    b?.map(r => r.jobId),
    ['job-b0', 'job-b1', 'job-b2'],
  );
  assert.deepEqual(
    c?.map(r => r.jobId),
    ['job-c0'],
  );
});

test('a lone submit is written at the end of its turn; later turns get their own write', async () => {
  const inner = recordingSink();
  const sink = new CoalescingSink(inner);
  await sink.submit(batch('x', 1));
  await sink.submit(batch('y', 1));
  assert.deepEqual(inner.calls, [['x0'], ['y0']]);
  assert.deepEqual(await sink.submit([]), []);
  assert.equal(inner.calls.length, 2, 'nothing to write for an empty submit');
});

test('a group is written as soon as it reaches maxReceipts', async () => {
  const inner = recordingSink();
  const sink = new CoalescingSink(inner, 4);
  const first = sink.submit(batch('a', 3));
  const second = sink.submit(batch('b', 2)); // 5 ≥ 4: written now, without waiting for the turn to end
  assert.equal(inner.calls.length, 1);
  const third = sink.submit(batch('c', 1));
  await Promise.all([first, second, third]);
  assert.deepEqual(inner.calls, [['a0', 'a1', 'a2', 'b0', 'b1'], ['c0']]);
});

test('when the shared write fails, every caller of the group is rejected with its error', async () => {
  const err = new StoreError('redis down');
  const sink = new CoalescingSink(recordingSink(err));
  const results = await Promise.allSettled([sink.submit(batch('a', 1)), sink.submit(batch('b', 1))]);
  assert.deepEqual(
    results.map(r => (r.status === 'rejected' ? r.reason : r.status)),
    [err, err],
  );
});

test('a sink that throws synchronously rejects the group instead of escaping', async () => {
  const throwing: ReceiptSink = {
    submit() {
      throw new Error('sync');
    },
  };
  await assert.rejects(new CoalescingSink(throwing).submit(batch('a', 1)), /sync/);
});
