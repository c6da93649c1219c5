import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Handler } from '../../src/contracts/handler.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { MAX_SLOTS_PER_WORKER, workerShares } from '../../src/pipeline/workers.js';
import { createPipeline, statusEnvelope } from './harness.js';

const open: Pipeline[] = [];
after(async () => {
  await Promise.all(open.map(p => p.close()));
});

test('slots per type are spread over as few workers of at most 64 as hold them, in equal shares', () => {
  assert.equal(MAX_SLOTS_PER_WORKER, 64);
  assert.deepEqual(workerShares(1), [1]);
  assert.deepEqual(workerShares(64), [64]);
  assert.deepEqual(workerShares(65), [33, 32]);
  assert.deepEqual(workerShares(256), [64, 64, 64, 64]);
  assert.deepEqual(workerShares(150), [50, 50, 50]);
  for (let concurrency = 1; concurrency <= 1000; concurrency += 1) {
    const shares = workerShares(concurrency);
    assert.equal(
      shares.reduce((a, b) => a + b, 0),
      concurrency,
      `${concurrency}: never more slots than configured`,
    );
    assert.ok(Math.max(...shares) <= MAX_SLOTS_PER_WORKER);
    assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
  }
});

test('a type with more slots than one worker holds runs that many handlers at once', async () => {
  const concurrency = 150;
  let running = 0;
  let peak = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>(resolve => (release = resolve));
  const handler: Handler = {
    name: 'slow',
    messageTypes: ['ChatAppStatus'],
    async handle() {
      running += 1;
      peak = Math.max(peak, running);
      if (running === concurrency) release();
      await gate;
      running -= 1;
    },
  };
  const { pipeline } = createPipeline([handler], { config: { concurrency } });
  open.push(pipeline);
  await pipeline.waitUntilReady();
  const envelopes = Array.from({ length: concurrency + 20 }, (_, i) => statusEnvelope(`slot-${i}`));
  const results = await pipeline.sink.submit(envelopes);
  const finished = Promise.all(results.map(r => pipeline.completions!.wait('ChatAppStatus', r.jobId)));
  // Every slot busy at once opens the gate; a pool smaller than `concurrency` never would.
  await Promise.race([
    gate,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`peak ${peak} < ${concurrency}`)), 15_000)),
  ]);
  assert.equal(peak, concurrency);
  // Three BullMQ workers of 50 slots, each registered with Redis under the queue's name.
  assert.equal((await pipeline.queues.get('ChatAppStatus').getWorkers()).length, 3);
  assert.deepEqual(new Set(await finished), new Set(['completed']));
  assert.equal(peak, concurrency, 'never more than the configured slots');
});
