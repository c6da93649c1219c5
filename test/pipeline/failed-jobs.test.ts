import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { eventually, redisUrl } from '../helpers/redis.js';
import { createPipeline, statusEnvelope } from './harness.js';

/**
 * Fails the next job of the queue the way BullMQ does on its own when a job stalled too often (without
 * calling the cams-receipts processor), then stops.
 */
async function failLikeBullMq(prefix: string): Promise<string> {
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  let failedId = '';
  const worker = new Worker(
    'ChatAppStatus',
    job => {
      failedId = job.id ?? '';
      throw new UnrecoverableError('job stalled more than allowable limit');
    },
    { connection, prefix, autorun: true },
  );
  try {
    await eventually(() => failedId !== '', 10_000, 'the stray worker took the job');
    await eventually(
      async () =>
        (await worker.client.then(c => c.zscore(`${prefix}:ChatAppStatus:failed`, failedId))) !== null,
      10_000,
      'the job is in the failed set',
    );
  } finally {
    await worker.close();
    connection.disconnect();
  }
  return failedId;
}

test('a job BullMQ failed on its own is parked as stalled before a poller hears it finished', async () => {
  const { pipeline } = createPipeline([], { workers: false, sweepMs: 200 });
  try {
    await pipeline.waitUntilReady();
    const [result] = await pipeline.sink.submit([statusEnvelope('stalled-1')]);
    const outcome = pipeline.completions!.wait('ChatAppStatus', result!.jobId);
    const jobId = await failLikeBullMq(pipeline.keys.prefix);
    assert.equal(jobId, result!.jobId);
    assert.equal(await outcome, 'dead_lettered');
    const entries = await pipeline.deadLetters.list();
    assert.equal(entries.length, 1, 'the receipt is in the dead-letter store, not just gone');
    assert.equal(entries[0]?.reason, 'stalled');
    assert.equal(entries[0]?.jobId, jobId);
    assert.equal((entries[0]?.receipt as Record<string, unknown>)['MessageId'], 'stalled-1');
    // Another poller (or a later sweep) finds it parked already: still one entry.
    assert.equal(await pipeline.failedJobs.settle('ChatAppStatus', jobId), 'dead_lettered');
    assert.equal(await pipeline.deadLetters.count(), 1);
  } finally {
    await pipeline.close();
  }
});

test('a worker that sees such a failure parks the receipt with no poller listening', async () => {
  const { pipeline } = createPipeline([], { workers: false });
  try {
    await pipeline.waitUntilReady();
    const [first] = await pipeline.sink.submit([statusEnvelope('stalled-2')]);
    const ref = { type: 'ChatAppStatus' as const, jobId: first!.jobId };
    const never = { type: 'ChatAppStatus' as const, jobId: 'never-there' };
    assert.deepEqual(await pipeline.jobStates.of([ref, never]), ['queued', 'missing']);
    const jobId = await failLikeBullMq(pipeline.keys.prefix);
    assert.equal(jobId, ref.jobId);
    assert.deepEqual(await pipeline.jobStates.of([ref]), ['failed'], 'failed, receipt not parked yet');
    pipeline.failedJobs.watch('ChatAppStatus', jobId);
    await eventually(async () => (await pipeline.deadLetters.count()) === 1, 10_000, 'the receipt parked');
    assert.deepEqual(await pipeline.jobStates.of([ref]), ['dead_lettered']);
    const [again] = await pipeline.sink.submit([statusEnvelope('stalled-2')]);
    assert.equal(again?.finished, true, 'a duplicate of a dead-lettered job needs no wait');
    const [entry] = await pipeline.deadLetters.list();
    assert.equal(entry?.reason, 'stalled');
    const job = await pipeline.queues.get('ChatAppStatus').getJob(jobId);
    assert.match(job?.failedReason ?? '', /^dead-lettered as /, 'the job now says where its receipt went');
  } finally {
    await pipeline.close();
  }
});
