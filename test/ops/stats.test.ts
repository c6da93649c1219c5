import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { statsCommand, type Stats } from '../../src/cli/stats.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { waitReady } from '../../src/redis/connection.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, envelope, statusEnvelope } from '../pipeline/harness.js';
import { runCommand, tempDir } from './helpers.js';

const STATUS_QUEUE = 'Alicom-Queue-42-ChatAppStatus';
const INBOUND_QUEUE = 'Alicom-Queue-42-ChatAppInbound';
const MISSING_QUEUE = 'Alicom-Queue-42-ChatAppAudit';

describe('cams-receipts stats', () => {
  const prefix = uniquePrefix('ops-stats');
  let emulator: EmulatorHandle;
  let pipeline: Pipeline;
  let cwd: string;
  let env: Record<string, string>;

  before(async () => {
    // The audit queue is configured but never created: it must be reported, not fail the command.
    emulator = await startEmulator({
      port: 0,
      queues: { ChatAppStatus: STATUS_QUEUE, ChatAppInbound: INBOUND_QUEUE },
    });
    await emulator.inject({ queueName: STATUS_QUEUE, count: 7 });
    await emulator.inject({ queueName: INBOUND_QUEUE, count: 2, delaySeconds: 300 });
    cwd = tempDir({
      'config/default.json': {
        smq: { endpoint: emulator.endpoint, tokenEndpoint: emulator.endpoint, accountId: emulator.accountId },
      },
      'config/queues/cams.yaml': [
        `- { messageType: ChatAppStatus, queueName: ${STATUS_QUEUE} }`,
        `- { messageType: ChatAppInbound, queueName: ${INBOUND_QUEUE}, auth: static }`,
        `- { messageType: ChatAppAudit, queueName: ${MISSING_QUEUE} }`,
      ].join('\n'),
    });
    env = {
      REDIS_URL: redisUrl(),
      CAMS_REDIS_PREFIX: prefix,
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret,
    };
    ({ pipeline } = createPipeline([], { prefix, workers: false }));
    await waitReady(pipeline.redis, 5000);
    await pipeline.sink.submit([
      statusEnvelope('stats-1'),
      statusEnvelope('stats-2'),
      statusEnvelope('stats-3'),
      envelope('ChatAppInbound', { MessageId: 'stats-in-1', Type: 'TEXT', Message: 'hi' }),
    ]);
    await pipeline.deadLetters.park({
      messageType: 'ChatAppAudit',
      source: 'smq',
      reason: 'decode',
      error: 'x',
      raw: '?',
    });
  });
  after(async () => {
    await pipeline.close();
    await emulator.close();
  });

  test('--json: BullMQ counts per type, dead letters, and SMQ attributes (or why not)', async () => {
    const result = await runCommand(statsCommand, ['--config', 'config', '--json'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    const stats = JSON.parse(result.stdout) as Stats;
    assert.equal(stats.redis.available, true);
    assert.deepEqual(stats.bullmq.ChatAppStatus, {
      waiting: 3,
      active: 0,
      delayed: 0,
      completed: 0,
      failed: 0,
    });
    assert.equal(stats.bullmq.ChatAppInbound?.waiting, 1);
    assert.equal(stats.bullmq.ChatAppAudit?.waiting, 0);
    assert.equal(stats.deadLetters, 1);

    const byQueue = new Map(stats.smq.map(q => [q.queueName, q]));
    assert.deepEqual(byQueue.get(STATUS_QUEUE), {
      queueName: STATUS_QUEUE,
      messageType: 'ChatAppStatus',
      available: true,
      activeMessages: 7,
      inactiveMessages: 0,
      delayMessages: 0,
    });
    const inbound = byQueue.get(INBOUND_QUEUE);
    assert.ok(
      inbound?.available && inbound.delayMessages === 2 && inbound.activeMessages === 0,
      JSON.stringify(inbound),
    );
    const missing = byQueue.get(MISSING_QUEUE);
    assert.equal(missing?.available, false);
    assert.match(missing && !missing.available ? missing.reason : '', /QueueNotExist|QueryTokenForMnsQueue/);
    assert.ok(!result.stdout.includes(emulator.accessKeySecret), 'no secret in the output');
  });

  test('text: tables, and SMQ unreachable is reported as unavailable without failing', async () => {
    await emulator.close();
    const result = await runCommand(statsCommand, ['--config', 'config'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /TYPE\s+WAITING\s+ACTIVE\s+DELAYED\s+COMPLETED\s+FAILED/);
    assert.match(result.stdout, /ChatAppStatus\s+3\s+0\s+0\s+0\s+0/);
    assert.match(result.stdout, /Dead-letter store: 1 entry/);
    assert.match(result.stdout, new RegExp(`${STATUS_QUEUE}\\s+ChatAppStatus\\s+unavailable: `));
  });

  test('Redis unreachable: exit 1, reported', async () => {
    const result = await runCommand(statsCommand, ['--config', 'config'], {
      cwd,
      env: { ...env, REDIS_URL: 'redis://127.0.0.1:1' },
    });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /unavailable: Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
  });

  test('--help is 0; an unknown option is 2', async () => {
    assert.equal((await runCommand(statsCommand, ['--help'], { cwd })).code, 0);
    assert.equal((await runCommand(statsCommand, ['--nope'], { cwd })).code, 2);
  });
});
