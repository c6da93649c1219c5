import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { IdempotencyStore } from '../../src/pipeline/idempotency.js';
import { KeySpace } from '../../src/pipeline/keys.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, recordingHandler, statusEnvelope } from './harness.js';

const open: Pipeline[] = [];
const clients: Redis[] = [];
after(async () => {
  await Promise.all(open.map(p => p.close()));
  for (const c of clients) c.disconnect();
});

function client(): Redis {
  const c = new Redis(redisUrl());
  clients.push(c);
  return c;
}

test('a job finished by workers in another process reaches the poller through the completion stream', async () => {
  const prefix = uniquePrefix('split');
  const handler = recordingHandler('h');
  // The poller side never re-checks within the test (long sweep): only the stream can answer.
  const poller = createPipeline([], { prefix, workers: false, sweepMs: 600_000 }).pipeline;
  const worker = createPipeline([handler], { prefix }).pipeline;
  open.push(poller, worker);
  await Promise.all([poller.waitUntilReady(), worker.waitUntilReady()]);
  const [r] = await poller.sink.submit([statusEnvelope('split-1')]);
  const outcome = await Promise.race([
    poller.completions!.wait('ChatAppStatus', r!.jobId),
    new Promise(resolve => setTimeout(() => resolve('no completion within 10 s'), 10_000)),
  ]);
  assert.equal(outcome, 'completed');
  assert.equal(handler.calls.length, 1);
  const entries = await client().xrange(new KeySpace(prefix).at(0).finishedStream, '-', '+');
  assert.deepEqual(entries.at(-1)?.[1], ['t', 'ChatAppStatus', 'j', r!.jobId, 'o', 'completed']);
});

test('commit records every handler that ran, releases only its own leases, and announces the job finished', async () => {
  const redis = client();
  const keys = new KeySpace(uniquePrefix('commit'));
  const store = new IdempotencyStore(redis, keys, 60, { streamMaxLen: 1000 });
  const a = await store.claim('a', 'k1', 10_000);
  const b = await store.claim('b', 'k1', 10_000);
  assert.ok(a.state === 'claimed' && b.state === 'claimed');
  // b's lease was taken over meanwhile: commit must not release the new holder's lock.
  await redis.set(keys.at(0).lock('b', 'k1'), 'someone-else');
  await store.commit(
    [
      { handler: 'a', dedupeKey: 'k1', token: a.token },
      { handler: 'b', dedupeKey: 'k1', token: b.token },
    ],
    { type: 'ChatAppStatus', jobId: 'status-k1', outcome: 'completed' },
  );
  assert.equal(await redis.exists(keys.at(0).lock('a', 'k1')), 0);
  assert.equal(await redis.get(keys.at(0).lock('b', 'k1')), 'someone-else');
  // The stream entry is all it leaves about the job: no per-job key (BullMQ's own state says the rest).
  const left = await redis.keys(`${keys.prefix}:*`);
  assert.deepEqual(
    left.filter(k => k.includes('status-k1')),
    [],
  );
  assert.ok(left.includes(keys.at(0).finishedStream));
  const [entry] = await redis.xrange(keys.at(0).finishedStream, '-', '+');
  assert.deepEqual(entry?.[1], ['t', 'ChatAppStatus', 'j', 'status-k1', 'o', 'completed']);
  // Both are recorded: b's too, though its lease is someone else's now.
  assert.equal((await store.claim('a', 'k1', 10_000)).state, 'done');
  assert.equal((await store.claim('b', 'k1', 10_000)).state, 'done');
  assert.equal((await store.claim('c', 'k1', 10_000)).state, 'claimed');
});

test('entries appended in waves while the reader waits between reads all reach their waiters', async () => {
  const prefix = uniquePrefix('waves');
  const poller = createPipeline([], { prefix, workers: false, sweepMs: 600_000 }).pipeline;
  open.push(poller);
  await poller.waitUntilReady();
  const ids = Array.from({ length: 4 }, (_, w) => Array.from({ length: 5 }, (_, j) => `wave-${w}-${j}`));
  const waits = ids.flat().map(id => poller.completions!.wait('ChatAppStatus', id));
  // The sweep is off (600 s): only the stream can answer them.
  const store = new IdempotencyStore(client(), new KeySpace(prefix), 60);
  for (const wave of ids) {
    await Promise.all(
      wave.map(jobId => store.commit([], { type: 'ChatAppStatus', jobId, outcome: 'completed' })),
    );
    // Shorter than the reader's pause after a read, so the next wave lands while it waits.
    await new Promise(resolve => setTimeout(resolve, 3));
  }
  const outcomes = await Promise.race([
    Promise.all(waits),
    new Promise(resolve => setTimeout(() => resolve('not every completion within 10 s'), 10_000)),
  ]);
  assert.deepEqual(
    outcomes,
    ids.flat().map(() => 'completed'),
  );
});

test('a waiter that registers just after its entry went by is answered from the entries read lately', async () => {
  const prefix = uniquePrefix('recent');
  const poller = createPipeline([], { prefix, workers: false, sweepMs: 600_000 }).pipeline;
  open.push(poller);
  await poller.waitUntilReady();
  // No BullMQ job at all, and no sweep within the test: only the entry the reader read can answer.
  const store = new IdempotencyStore(client(), new KeySpace(prefix), 60);
  const later = poller.completions!.wait('ChatAppStatus', 'later');
  await store.commit([], { type: 'ChatAppStatus', jobId: 'gone-by', outcome: 'dead_lettered' });
  await store.commit([], { type: 'ChatAppStatus', jobId: 'later', outcome: 'completed' });
  // The reader read 'later', so it read 'gone-by' before it.
  assert.equal(await later, 'completed');
  const outcome = await Promise.race([
    poller.completions!.wait('ChatAppStatus', 'gone-by'),
    new Promise(resolve => setTimeout(() => resolve('no answer within 2 s'), 2_000)),
  ]);
  assert.equal(outcome, 'dead_lettered');
});

test("a poller in another process learns a job finished long before from BullMQ's own state", async () => {
  const prefix = uniquePrefix('old');
  const worker = createPipeline([recordingHandler('h')], { prefix }).pipeline;
  open.push(worker);
  await worker.waitUntilReady();
  const [r] = await worker.sink.submit([statusEnvelope('old-1')]);
  assert.equal(await worker.completions!.wait('ChatAppStatus', r!.jobId), 'completed');
  // Started after the job finished: its reader never saw the entry.
  const late = createPipeline([], { prefix, workers: false, sweepMs: 500 }).pipeline;
  open.push(late);
  await late.waitUntilReady();
  const started = Date.now();
  const outcome = await Promise.race([
    late.completions!.wait('ChatAppStatus', r!.jobId),
    new Promise(resolve => setTimeout(() => resolve('no answer within 5 s'), 5_000)),
  ]);
  assert.equal(outcome, 'completed');
  assert.ok(Date.now() - started < 1_000, 'answered at the first look, a fifth of the sweep interval');
  assert.deepEqual(await late.jobStates.of([{ type: 'ChatAppStatus', jobId: r!.jobId }]), ['completed']);
  // Its sink, which never heard the entry either, reports a duplicate finished from the same state.
  const [dup] = await late.sink.submit([statusEnvelope('old-1')]);
  assert.deepEqual(dup, { jobId: r!.jobId, finished: true });
});
