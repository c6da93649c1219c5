import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConsumerConfig, SmqConfig } from '../../src/config/types.js';
import { SmqError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { SmqConsumer } from '../../src/smq/consumer.js';
import type { SmqQueueClient } from '../../src/smq/types.js';
import { FakeQueue } from './fake-queue.js';
import { FakePipeline, SMQ, statusBody, until } from './fake-pipeline.js';

function consumerConfig(overrides: Partial<ConsumerConfig> = {}): ConsumerConfig {
  return {
    file: 'queues/test.json',
    messageType: 'ChatAppStatus',
    queueName: 'Alicom-Queue-1-ChatAppStatus',
    auth: 'static',
    endpoint: '',
    maxInFlight: 100,
    waitSeconds: 1,
    batchSize: 16,
    ...overrides,
  };
}

const running: SmqConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(c => c.stop({ drainTimeoutMs: 0 })));
});

function start(
  client: SmqQueueClient,
  pipeline: FakePipeline,
  overrides: Partial<ConsumerConfig> = {},
  smq: Partial<SmqConfig> = {},
): SmqConsumer {
  const consumer = new SmqConsumer({
    consumer: consumerConfig(overrides),
    smq: { ...SMQ, ...smq },
    client,
    sink: pipeline,
    storeProbe: pipeline,
    completions: pipeline,
    deadLetters: pipeline,
    logger: silentLogger(),
  });
  running.push(consumer);
  consumer.start();
  return consumer;
}

test('receipts are submitted, and each message is deleted only after its job finished', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  for (let i = 0; i < 5; i += 1) queue.send(statusBody(`m${i}`));
  const consumer = start(queue, pipeline);
  let enqueued = 0;
  consumer.on('enqueued', e => (enqueued += e.count));
  await until(() => pipeline.submitted.length === 5, 5_000, 'submits');
  assert.equal(pipeline.submitted[0]?.source, 'smq');
  assert.equal(pipeline.submitted[0]?.queueName, 'Alicom-Queue-1-ChatAppStatus');
  assert.ok(pipeline.submitted[0]!.originTimeMs > 0);
  await delay(100);
  assert.equal(queue.deleted.size, 0, 'nothing deleted before the jobs finished');
  assert.equal(consumer.inFlight, 5);
  pipeline.complete('ChatAppStatus-m0-Delivered');
  pipeline.complete('ChatAppStatus-m1-Delivered', 'dead_lettered');
  await until(() => queue.deleted.size === 2, 2_000, 'two deletes');
  assert.deepEqual([...queue.deleted].sort(), ['M1', 'M2']);
  pipeline.completeAll();
  await until(() => queue.size === 0, 2_000, 'queue empty');
  assert.equal(enqueued, 5);
  assert.equal(consumer.inFlight, 0);
});

test('a receipt whose job already finished is deleted at once (duplicate)', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  pipeline.finished.add('ChatAppStatus-dup-Delivered');
  queue.send(statusBody('dup'));
  const consumer = start(queue, pipeline);
  let duplicates = 0;
  consumer.on('duplicate', e => (duplicates += e.count));
  await until(() => queue.size === 0, 2_000, 'delete');
  assert.equal(duplicates, 1);
});

test('an undecodable body is parked with its raw text and metadata, then deleted', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  queue.send('%%% not base64, not json');
  queue.send(Buffer.from(JSON.stringify({ Status: 'Read' })).toString('base64'));
  const consumer = start(queue, pipeline);
  const reasons: string[] = [];
  consumer.on('dead_lettered', e => reasons.push(e.reason));
  await until(() => queue.size === 0, 2_000, 'deletes');
  assert.deepEqual(reasons.sort(), ['decode', 'invalid']);
  const decode = pipeline.parked.find(p => p.reason === 'decode');
  assert.equal(decode?.raw, '%%% not base64, not json');
  assert.equal(decode?.smq?.['MessageId'], 'M1');
  assert.equal(decode?.smq?.['DequeueCount'], 1);
  assert.equal(decode?.source, 'smq');
  assert.match(pipeline.parked.find(p => p.reason === 'invalid')!.error, /MessageId/);
  assert.equal(pipeline.submitted.length, 0);
});

test('when the store is down nothing is deleted; the messages come back and finish once it returns', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  pipeline.storeDown = true;
  pipeline.autoCompleteMs = 0;
  queue.send(statusBody('a'));
  queue.send('garbage that must be parked');
  const consumer = start(queue, pipeline);
  const classes: string[] = [];
  consumer.on('backoff', e => classes.push(e.errorClass));
  await until(() => pipeline.submitCalls >= 2, 5_000, 'retries');
  assert.equal(queue.deleted.size, 0);
  assert.ok(classes.includes('store'));
  assert.equal(consumer.health().lastErrorClass, 'store');
  pipeline.storeDown = false;
  await until(() => queue.size === 0, 5_000, 'recovery');
  assert.equal(pipeline.parked.length, 1);
  assert.equal(consumer.inFlight, 0);
});

test('never holds more than maxInFlight messages, and asks only for the room it has', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  for (let i = 0; i < 20; i += 1) queue.send(statusBody(`m${i}`));
  const asked: number[] = [];
  const spy: SmqQueueClient = {
    receive: (max, wait, signal) => {
      asked.push(max);
      return queue.receive(max, wait, signal);
    },
    deleteBatch: h => queue.deleteBatch(h),
    changeVisibility: (h, s) => queue.changeVisibility(h, s),
  };
  const consumer = start(spy, pipeline, { maxInFlight: 5, batchSize: 3 });
  await until(() => pipeline.submitted.length === 5, 2_000, 'five in flight');
  await delay(200);
  assert.equal(pipeline.submitted.length, 5);
  assert.equal(consumer.inFlight, 5);
  assert.deepEqual(asked.slice(0, 2), [3, 2]);
  pipeline.autoCompleteMs = 0;
  pipeline.completeAll();
  await until(() => queue.size === 0, 5_000, 'all done');
  assert.ok(Math.max(...asked) <= 3);
});

test('poll failures back off by class and the loop recovers', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 0;
  queue.failNext('receive', new SmqError('throttled', 'throttled', 'TooManyRequests'), 2);
  queue.failNext('receive', new SmqError('reset', 'network'));
  queue.failNext('receive', new TypeError('a bug'));
  queue.send(statusBody('a'));
  const consumer = start(queue, pipeline);
  const classes: string[] = [];
  const errors: Error[] = [];
  consumer.on('backoff', e => classes.push(e.errorClass));
  consumer.on('error', e => errors.push(e));
  await until(() => queue.size === 0, 5_000, 'processed after recovery');
  assert.deepEqual(classes, ['throttled', 'throttled', 'network', 'unexpected']);
  assert.equal(errors.length, 1);
  assert.equal(consumer.health().consecutiveFailures, 0);
  assert.ok(consumer.health().lastPollOkAtMs);
});

test('a missing queue backs off long and reports unhealthy until it appears', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  queue.failNext('receive', new SmqError('no queue', 'queue_missing', 'QueueNotExist'), 2);
  const consumer = start(queue, pipeline);
  const delays: number[] = [];
  consumer.on('backoff', e => delays.push(e.delayMs));
  await until(() => consumer.health().queueMissing, 2_000, 'unhealthy');
  assert.equal(consumer.health().lastErrorClass, 'queue_missing');
  await until(() => !consumer.health().queueMissing, 3_000, 'healthy again');
  assert.deepEqual(delays, [300, 300]);
});

test('stop cuts the long poll short, drains in-flight messages and flushes their deletes', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  queue.send(statusBody('a'));
  queue.send(statusBody('b'));
  const consumer = start(queue, pipeline, { waitSeconds: 30 });
  await until(() => pipeline.submitted.length === 2, 2_000, 'submits');
  setTimeout(() => pipeline.completeAll(), 200);
  let stopped = false;
  consumer.on('stopped', () => (stopped = true));
  const first = consumer.stop({ drainTimeoutMs: 5_000 });
  assert.equal(consumer.stop(), first, 'stop is idempotent');
  await first;
  assert.ok(stopped);
  assert.equal(queue.size, 0, 'drained messages were deleted before stop resolved');
  assert.equal(consumer.health().running, false);
});

test('after the drain deadline stop resolves and unfinished messages are left to redeliver', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  queue.send(statusBody('a'));
  const consumer = start(queue, pipeline, { waitSeconds: 30 });
  await until(() => consumer.inFlight === 1 && pipeline.submitted.length === 1, 2_000, 'in flight');
  await consumer.stop({ drainTimeoutMs: 100 });
  assert.equal(consumer.inFlight, 0);
  assert.equal(queue.size, 1);
  assert.equal(queue.calls.deleteBatch, 0);
  const receivesAtStop = queue.calls.receive;
  await delay(100);
  assert.equal(queue.calls.receive, receivesAtStop, 'no polling after stop');
});

test('after a store outage the loop resumes within seconds of the store returning, whatever the backoff cap', async () => {
  const queue = new FakeQueue();
  const pipeline = new FakePipeline();
  pipeline.storeDown = true;
  pipeline.autoCompleteMs = 0;
  for (let i = 0; i < 64; i += 1) queue.send(statusBody(`o${i}`));
  const handedBack: number[] = [];
  const spy: SmqQueueClient = {
    receive: (max, wait, signal) => queue.receive(max, wait, signal),
    deleteBatch: handles => queue.deleteBatch(handles),
    changeVisibility: (handle, seconds) => {
      handedBack.push(seconds);
      return queue.changeVisibility(handle, seconds);
    },
  };
  const delays: number[] = [];
  const consumer = start(spy, pipeline, { maxInFlight: 64 }, { backoffBaseMs: 200, backoffMaxMs: 30_000 });
  consumer.on('backoff', e => delays.push(e.delayMs));
  // Long enough for the backoff to step towards its 30 s cap if every failed batch stepped it.
  await delay(2_500);
  assert.ok(
    pipeline.submitCalls >= 2,
    `the loop retried during the outage (${pipeline.submitCalls} submits)`,
  );
  assert.equal(queue.deleted.size, 0, 'nothing deleted while the store is down');
  const back = Date.now();
  pipeline.storeDown = false;
  await until(() => queue.size === 0, 8_000, 'every message handled after the store returned');
  const recoveryMs = Date.now() - back;
  assert.ok(recoveryMs < 8_000, `recovered ${recoveryMs} ms after the store returned`);
  assert.ok(pipeline.probeCalls > 0, 'the paused loop probed the store');
  assert.ok(
    handedBack.every(s => s >= 1 && s <= 5),
    `handed-back messages are visible again within 5 s (asked: ${[...new Set(handedBack)].join(', ')} s)`,
  );
  assert.ok(Math.max(...delays) < 30_000, 'the pause never reached the backoff cap');
});

test('a batchSize or waitSeconds out of range throws instead of being clamped', () => {
  const build = (overrides: Partial<ConsumerConfig>) => () =>
    new SmqConsumer({
      consumer: consumerConfig(overrides),
      smq: SMQ,
      client: new FakeQueue(),
      sink: new FakePipeline(),
      storeProbe: new FakePipeline(),
      completions: new FakePipeline(),
      deadLetters: new FakePipeline(),
      logger: silentLogger(),
    });
  assert.throws(build({ batchSize: 17 }), /batchSize to be an integer from 1 to 16, got 17/);
  assert.throws(build({ waitSeconds: -1 }), /waitSeconds to be an integer from 0 to 30, got -1/);
  assert.throws(build({ maxInFlight: 0 }), /maxInFlight to be an integer >= 1/);
});
