import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConsumerConfig, SmqConfig } from '../../src/config/types.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { accountCredentials } from '../../src/credentials/account.js';
import { createConsumerClient } from '../../src/smq/client-pool.js';
import { SmqConsumer } from '../../src/smq/consumer.js';
import { TokenProvider } from '../../src/smq/token-provider.js';
import { FakePipeline, SMQ, until } from './fake-pipeline.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function emulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const emu = await startEmulator({ port: 0, ...options });
  cleanups.push(() => emu.close());
  return emu;
}

interface Setup {
  readonly consumer: SmqConsumer;
  readonly pipeline: FakePipeline;
  readonly queueName: string;
  readonly classes: string[];
}

function consume(
  emu: EmulatorHandle,
  options: { smq?: Partial<SmqConfig>; consumer?: Partial<ConsumerConfig>; pipeline?: FakePipeline } = {},
): Setup {
  const smq: SmqConfig = {
    ...SMQ,
    endpoint: emu.endpoint,
    accountId: emu.accountId,
    tokenEndpoint: emu.endpoint,
    maxInFlight: 64,
    waitSeconds: 2,
    backoffMaxMs: 200,
    queueMissingBackoffMs: 500,
    ...options.smq,
  };

  const config: ConsumerConfig = {
    file: 'queues/test.yaml',
    messageType: 'ChatAppStatus',
    queueName: emu.queues['ChatAppStatus']!,
    auth: 'cams',
    endpoint: emu.endpoint,
    maxInFlight: 64,
    waitSeconds: 2,
    batchSize: 16,
    ...options.consumer,
  };
  const account = accountCredentials({
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, securityToken: '' },
    env: {},
    logger: silentLogger(),
  });
  const tokens = new TokenProvider({
    endpoint: smq.tokenEndpoint,
    account,
    minForcedRefreshIntervalMs: 200,
    logger: silentLogger(),
  });
  const pipeline = options.pipeline ?? new FakePipeline();
  const consumer = new SmqConsumer({
    consumer: config,
    smq,
    client: createConsumerClient({ consumer: config, smq, account, tokens }),
    sink: pipeline,
    storeProbe: pipeline,
    completions: pipeline,
    deadLetters: pipeline,
    logger: silentLogger(),
  });
  const classes: string[] = [];
  consumer.on('backoff', e => classes.push(e.errorClass));
  consumer.start();
  cleanups.push(() => consumer.stop({ drainTimeoutMs: 0 }));
  return { consumer, pipeline, queueName: config.queueName, classes };
}

function receipt(i: number): { MessageId: string; Status: string } {
  return { MessageId: `wamid.${i}`, Status: 'Delivered' };
}

function drained(emu: EmulatorHandle, queueName: string): () => boolean {
  return () => {
    const q = emu.stats().queues[queueName];
    return q !== undefined && q.sent > 0 && q.visible === 0 && q.inFlight === 0 && q.delayed === 0;
  };
}

function distinctJobs(pipeline: FakePipeline): number {
  return new Set(pipeline.submitted.map(e => FakePipeline.jobId(e))).size;
}

test('receipts and duplicates flow through a token-signed loop; garbage is parked; the queue ends empty', async () => {
  const emu = await emulator();
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 5;
  const { queueName } = consume(emu, { pipeline });
  await emu.inject({
    messageType: 'ChatAppStatus',
    receipts: Array.from({ length: 40 }, (_, i) => receipt(i)),
  });
  await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(3), receipt(7)] });
  await emu.inject({ messageType: 'ChatAppStatus', bodies: ['<<neither base64 nor json>>'] });
  await until(drained(emu, queueName), 10_000, 'queue drained');
  const q = emu.stats().queues[queueName]!;
  assert.equal(q.deleted, 43);
  assert.equal(q.received, 43, 'nothing redelivered');
  assert.equal(distinctJobs(pipeline), 40);
  assert.equal(pipeline.parked.length, 1);
  assert.equal(pipeline.parked[0]?.raw, '<<neither base64 nor json>>');
  assert.equal(emu.stats().tokensIssued, 1);
});

test('a job slower than the visibility timeout: leases are extended, nothing redelivers, the newest handle deletes', async () => {
  const emu = await emulator({ visibilityTimeoutSeconds: 2 });
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 3_500;
  const { consumer, queueName } = consume(emu, {
    pipeline,
    smq: { visibilityTimeoutSeconds: 2, leaseLeadMs: 1_000 },
  });
  let extensions = 0;
  consumer.on('lease_extended', () => (extensions += 1));
  await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(1), receipt(2), receipt(3)] });
  await until(drained(emu, queueName), 10_000, 'queue drained');
  const q = emu.stats().queues[queueName]!;
  assert.equal(q.received, 3, 'no message became visible again');
  assert.equal(q.deleted, 3);
  assert.ok(extensions >= 6, `${extensions} extensions`);
});

test('throttling, 5xx and dropped connections cause backoff, and every receipt still gets through', async () => {
  const emu = await emulator({ visibilityTimeoutSeconds: 2 });
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 5;
  const { queueName, classes, consumer } = consume(emu, {
    pipeline,
    smq: { visibilityTimeoutSeconds: 2, leaseLeadMs: 1_000 },
  });
  await until(() => consumer.health().lastPollOkAtMs !== undefined, 5_000, 'first poll');
  emu.setFaults({ throttleRatio: 1, actions: ['BatchReceiveMessage'] });
  await until(() => classes.includes('throttled'), 5_000, 'throttled backoff');
  emu.setFaults({ serverErrorRatio: 1, actions: ['BatchReceiveMessage'] });
  await until(() => classes.includes('server'), 5_000, 'server backoff');
  emu.setFaults({ throttleRatio: 0.2, serverErrorRatio: 0.2, dropConnectionRatio: 0.05 });
  await emu.inject({
    messageType: 'ChatAppStatus',
    receipts: Array.from({ length: 60 }, (_, i) => receipt(i)),
  });
  await until(() => distinctJobs(pipeline) === 60, 20_000, 'all receipts submitted');
  emu.setFaults({});
  await until(drained(emu, queueName), 15_000, 'queue drained');
  assert.ok(consumer.health().running);
  assert.equal(consumer.inFlight, 0);
});

test('tokens revoked mid-run: the loop refreshes its token and carries on', async () => {
  const emu = await emulator();
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 5;
  const { queueName, classes } = consume(emu, { pipeline });
  await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(1)] });
  await until(drained(emu, queueName), 5_000, 'first receipt');
  assert.ok(emu.expireTokens() >= 1);
  await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(2), receipt(3)] });
  await until(() => emu.stats().queues[queueName]!.deleted === 3, 10_000, 'after the new token');
  assert.ok(classes.includes('auth'), classes.join());
  assert.equal(emu.stats().tokensIssued, 2);
});

test('stop under load: polling ends at once, in-flight work drains, and a new loop finishes the rest', async () => {
  const emu = await emulator();
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 30;
  const first = consume(emu, { pipeline, consumer: { maxInFlight: 10 } });
  await emu.inject({
    messageType: 'ChatAppStatus',
    receipts: Array.from({ length: 200 }, (_, i) => receipt(i)),
  });
  await until(() => emu.stats().queues[first.queueName]!.deleted >= 20, 10_000, 'some progress');
  await first.consumer.stop({ drainTimeoutMs: 5_000 });
  assert.equal(first.consumer.inFlight, 0);
  const atStop = emu.stats().queues[first.queueName]!;
  assert.equal(atStop.inFlight, 0, 'every received message was finished and deleted');
  await delay(300);
  assert.equal(emu.stats().queues[first.queueName]!.received, atStop.received, 'no receive after stop');
  consume(emu, { pipeline });
  await until(drained(emu, first.queueName), 10_000, 'the rest');
  assert.equal(emu.stats().queues[first.queueName]!.deleted, 200);
  assert.equal(distinctJobs(pipeline), 200);
});

test('a queue that does not exist makes the loop unhealthy, not dead', async () => {
  const emu = await emulator();
  const { consumer } = consume(emu, { consumer: { queueName: 'Alicom-Queue-0-Missing', auth: 'static' } });
  await until(() => consumer.health().queueMissing, 5_000, 'unhealthy');
  assert.equal(consumer.health().lastErrorClass, 'queue_missing');
  assert.ok(consumer.health().running);
  emu.declareQueue('ChatAppStatus', 'Alicom-Queue-0-Missing');
  await until(() => !consumer.health().queueMissing, 5_000, 'healthy again');
});

/** Sends one receipt at a time, `gapMs` apart, and returns the counts each receive came back with. */
async function trickle(lingerMs: number): Promise<number[]> {
  const emu = await emulator();
  const pipeline = new FakePipeline();
  pipeline.autoCompleteMs = 1;
  const { consumer, queueName } = consume(emu, { pipeline, smq: { receiveLingerMs: lingerMs } });
  const counts: number[] = [];
  consumer.on('received', ({ count }) => counts.push(count));
  await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(0)] });
  await until(() => counts.length === 1, 5_000, 'first receive');
  for (let i = 1; i <= 5; i++) {
    await emu.inject({ messageType: 'ChatAppStatus', receipts: [receipt(i)] });
    await delay(30);
  }
  await until(drained(emu, queueName), 10_000, 'queue drained');
  return counts;
}

test('receiveLingerMs: after a partial batch the loop waits, so a trickle arrives in fuller batches', async () => {
  // Without a linger the waiting long poll answers for the first message that arrives; with one, the
  // five that come within it share the next receive.
  const eager = await trickle(0);
  assert.ok(eager.length >= 4, `receives without linger: ${eager.join(', ')}`);
  const lingering = await trickle(400);
  assert.deepEqual(lingering, [1, 5]);
});
