import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Handler } from '../../src/contracts/handler.js';
import { eventually, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, envelope } from './harness.js';

interface Seen {
  readonly sizes: number[];
  /** Successful handlings per dedupe key. */
  readonly done: Map<string, number>;
  /** Failed handlings per dedupe key. */
  readonly failed: Map<string, number>;
}

/** A batch handler that reports the receipts whose keys are in `failOnce` as failed, the first time. */
function bulkHandler(failOnce: ReadonlySet<string>): Handler & Seen {
  const seen: Seen = { sizes: [], done: new Map(), failed: new Map() };
  const handler: Handler = {
    name: 'bulk',
    messageTypes: ['ChatAppStatus'],
    batch: { maxSize: 50, lingerMs: 20 },
    handle: () => assert.fail('handle is not called when handleBatch is there'),
    async handleBatch(_receipts, ctxs) {
      seen.sizes.push(ctxs.length);
      await new Promise(resolve => setTimeout(resolve, 5));
      const failed: number[] = [];
      ctxs.forEach((ctx, i) => {
        const key = ctx.dedupeKey;
        if (failOnce.has(key) && !seen.failed.has(key)) {
          seen.failed.set(key, 1);
          failed.push(i);
        } else seen.done.set(key, (seen.done.get(key) ?? 0) + 1);
      });
      return { failed };
    },
  };
  return Object.assign(handler, seen);
}

test('handleBatch under load: batches larger than one; every receipt handled once, also after a partial failure', async () => {
  const keys = Array.from({ length: 800 }, (_, i) => `b-${i}`);
  const failOnce = new Set(keys.filter((_, i) => i % 7 === 0).map(k => `${k}|Delivered`));
  const bulk = bulkHandler(failOnce);
  const { pipeline, shutdown } = createPipeline([bulk], {
    prefix: uniquePrefix('batch'),
    config: { concurrency: 128, backoffDelayMs: 10 },
  });
  try {
    await pipeline.waitUntilReady();
    const envelopes = keys.map(k => envelope('ChatAppStatus', { MessageId: k, Status: 'Delivered' }));
    await pipeline.sink.submit(envelopes);
    // A duplicate of each, later: already handled, it must not reach the handler again.
    await pipeline.sink.submit(envelopes.slice(0, 100));
    await eventually(() => bulk.done.size === keys.length, 60_000, 'every receipt handled');
    await new Promise(resolve => setTimeout(resolve, 300)); // a second handling would show up here
    assert.ok(Math.max(...bulk.sizes) > 1, `batches of more than one (largest ${Math.max(...bulk.sizes)})`);
    assert.ok(
      bulk.sizes.every(n => n <= 50),
      'never over batch.maxSize',
    );
    assert.deepEqual(
      [...bulk.done.values()].filter(n => n !== 1),
      [],
      'each receipt handled successfully exactly once',
    );
    assert.equal(bulk.failed.size, failOnce.size, 'the reported ones failed once…');
    assert.ok(
      [...failOnce].every(k => bulk.done.get(k) === 1),
      '…and were retried alone, once',
    );
    const handled = bulk.sizes.reduce((s, n) => s + n, 0);
    assert.equal(handled, keys.length + failOnce.size, 'only the failed ones were handed over again');
  } finally {
    shutdown.abort();
    await pipeline.close();
  }
});

test('a handleBatch that throws fails every receipt of its batch, and each is retried', async () => {
  let calls = 0;
  const done = new Set<string>();
  const flaky: Handler = {
    name: 'flaky-bulk',
    messageTypes: ['ChatAppStatus'],
    batch: { maxSize: 10, lingerMs: 50 },
    handle: () => undefined,
    handleBatch(_receipts, ctxs) {
      calls += 1;
      if (calls === 1) throw new Error('bulk insert failed');
      for (const ctx of ctxs) done.add(ctx.dedupeKey);
    },
  };
  const { pipeline, shutdown } = createPipeline([flaky], { prefix: uniquePrefix('batch-throw') });
  try {
    await pipeline.waitUntilReady();
    await pipeline.sink.submit(
      ['x1', 'x2', 'x3'].map(k => envelope('ChatAppStatus', { MessageId: k, Status: 'Read' })),
    );
    await eventually(() => done.size === 3, 20_000, 'all three handled after the retry');
    assert.ok(calls >= 2);
  } finally {
    shutdown.abort();
    await pipeline.close();
  }
});
