import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { StoreError } from '../../src/errors.js';
import { JobLostError } from '../../src/pipeline/completions.js';
import { PrivateRedis, eventually } from '../helpers/redis.js';
import { captureLogger } from '../handlers/helpers.js';
import { createPipeline, recordingHandler, statusEnvelope } from './harness.js';

let redis: PrivateRedis;
before(async () => {
  redis = await PrivateRedis.start();
});
after(async () => {
  await redis.destroy();
});

test('while Redis is down, submit fails with StoreError; after it returns, receipts flow again', async () => {
  const handler = recordingHandler('h');
  const { pipeline } = createPipeline([handler], { url: redis.url });
  try {
    await pipeline.waitUntilReady();
    await redis.stop();
    const started = Date.now();
    await assert.rejects(pipeline.sink.submit([statusEnvelope('down-1')]), StoreError);
    assert.ok(Date.now() - started < 5000, 'submit gives up quickly');
    await redis.restart();
    let results: Awaited<ReturnType<typeof pipeline.sink.submit>> = [];
    await eventually(
      async () => {
        try {
          results = await pipeline.sink.submit([statusEnvelope('down-1')]);
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      'submit to succeed after Redis restarted',
    );
    assert.equal(await pipeline.completions!.wait('ChatAppStatus', results[0]!.jobId), 'completed');
    assert.equal(handler.calls.length, 1);
  } finally {
    await pipeline.close();
  }
});

test('a job that vanishes with Redis data is reported lost, never as completed', async () => {
  const { pipeline } = createPipeline([], { url: redis.url, workers: false, sweepMs: 200 });
  const admin = new Redis(redis.url);
  try {
    await pipeline.waitUntilReady();
    const [r] = await pipeline.sink.submit([statusEnvelope('lost-1')]);
    const outcome = pipeline.completions!.wait('ChatAppStatus', r!.jobId);
    await new Promise(res => setTimeout(res, 100));
    await admin.flushall(); // our own private Redis
    await assert.rejects(outcome, JobLostError);
  } finally {
    admin.disconnect();
    await pipeline.close();
  }
});

test('while Redis is down, worker errors are logged once per kind and then summarised, not per failure', async () => {
  const { logger, lines } = captureLogger('warn');
  const { pipeline } = createPipeline([recordingHandler('h')], { url: redis.url, logger });
  try {
    await pipeline.waitUntilReady();
    await redis.stop();
    await new Promise(r => setTimeout(r, 3_000));
    const workerErrors = lines.filter(l => l['event'] === 'worker_error');
    assert.ok(workerErrors.length > 0, 'the outage is reported');
    assert.ok(workerErrors.length <= 12, `${workerErrors.length} worker_error lines in 3 s`);
    await redis.restart();
    await eventually(() => pipeline.sink.probe(), 10_000, 'Redis takes writes again');
  } finally {
    await pipeline.close();
  }
});
