import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { accountCredentials } from '../../src/credentials/account.js';
import { createBacklogSampler } from '../../src/daemon/backlog.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { BacklogSampler } from '../../src/observability/backlog-sampler.js';
import { DrainProgress } from '../../src/observability/drain-progress.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics, type JobStateCounts } from '../../src/observability/metrics.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { captureLogger } from '../handlers/helpers.js';
import { createPipeline, statusEnvelope } from '../pipeline/harness.js';
import { waitReady } from '../../src/redis/connection.js';
import { TokenProvider } from '../../src/smq/token-provider.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { sample, tempDir } from './helpers.js';

const STATUS_QUEUE = 'Alicom-Queue-1-ChatAppStatus';

describe('depth gauges, sampled from BullMQ, the dead-letter store and SMQ', () => {
  let emulator: EmulatorHandle;
  let pipeline: Pipeline;
  before(async () => {
    emulator = await startEmulator({ port: 0, queues: { ChatAppStatus: STATUS_QUEUE } });
    await emulator.inject({ queueName: STATUS_QUEUE, count: 7 });
    ({ pipeline } = createPipeline([], { prefix: uniquePrefix('sampler'), workers: false }));
    await waitReady(pipeline.redis, 5000);
    await pipeline.sink.submit([1, 2, 3].map(i => statusEnvelope(`sampled-${i}`)));
    const parked = {
      messageType: 'ChatAppAudit',
      source: 'smq',
      reason: 'decode',
      error: 'x',
      raw: '?',
    } as const;
    await pipeline.deadLetters.park(parked);
    await pipeline.deadLetters.park(parked);
  });
  after(async () => {
    await pipeline.close();
    await emulator.close();
  });

  test('one sample sets the job, dead-letter, SMQ and build_info gauges; a scrape reads no Redis', async () => {
    const cwd = tempDir({
      'config/default.json': {
        smq: { endpoint: emulator.endpoint, tokenEndpoint: emulator.endpoint, accountId: emulator.accountId },
        credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
      },
      'config/queues/cams.yaml': `- { messageType: ChatAppStatus, queueName: ${STATUS_QUEUE} }\n`,
    });
    const config = loadConfig({ cwd, env: { REDIS_URL: redisUrl() } });
    const metrics = new Metrics({ defaultMetrics: false, version: '9.8.7' });
    const logger = silentLogger();
    const account = accountCredentials({ credentials: config.credentials, env: {}, logger });
    const tokens = new TokenProvider({ endpoint: emulator.endpoint, account, logger });
    const sampler = createBacklogSampler(
      { pipeline, config: () => config, polls: true, account, tokens: () => tokens, metrics, logger },
      60_000,
    );
    const before = await metrics.text();
    assert.equal(sample(before, 'cams_receipts_build_info{version="9.8.7"}'), 1);
    assert.doesNotMatch(before, /cams_receipts_jobs\{/, 'nothing before the first sample');

    await sampler.sample();
    const text = await metrics.text();
    const jobs = (state: string) => sample(text, `cams_receipts_jobs{type="ChatAppStatus",state="${state}"}`);
    assert.equal(jobs('waiting'), 3);
    assert.equal(jobs('active'), 0);
    assert.equal(jobs('failed'), 0);
    assert.equal(sample(text, 'cams_receipts_dead_letters'), 2);
    const smq = (state: string) =>
      sample(
        text,
        `cams_receipts_smq_messages{queue="${STATUS_QUEUE}",type="ChatAppStatus",state="${state}"}`,
      );
    assert.equal(smq('active'), 7);
    assert.equal(smq('inactive'), 0);

    // The gauges hold the sampled values: a new job shows only at the next sample.
    await pipeline.sink.submit([statusEnvelope('sampled-4')]);
    assert.equal(sample(await metrics.text(), 'cams_receipts_jobs{type="ChatAppStatus",state="waiting"}'), 3);
    await sampler.sample();
    assert.equal(sample(await metrics.text(), 'cams_receipts_jobs{type="ChatAppStatus",state="waiting"}'), 4);
    await sampler.stop();
  });
});

describe('progress lines while a backlog drains (pure)', () => {
  test('rate, net rate, what is left and an ETA while above the threshold; one line once drained', () => {
    const progress = new DrainProgress(100);
    assert.equal(progress.next(50, 0, 0), undefined, 'keeping up: no line');
    assert.deepEqual(progress.next(1000, 0, 1000), {
      kind: 'progress',
      left: 1000,
      ratePerSecond: 0,
      netRatePerSecond: -950,
    });
    assert.deepEqual(progress.next(800, 250, 6000), {
      kind: 'progress',
      left: 800,
      ratePerSecond: 50,
      netRatePerSecond: 40,
      etaSeconds: 20,
    });
    const growing = progress.next(900, 260, 11_000);
    assert.deepEqual(growing, { kind: 'progress', left: 900, ratePerSecond: 2, netRatePerSecond: -20 });
    assert.deepEqual(progress.next(10, 600, 16_000), { kind: 'drained', left: 10 });
    assert.equal(progress.next(5, 610, 21_000), undefined, 'drained once');
  });

  test('the sampler logs the lines, and one warning when sampling starts failing', async () => {
    const { logger, lines } = captureLogger('info');
    let waiting = 5000;
    let fail = false;
    let now = 0;
    const counts = (): Map<string, JobStateCounts> =>
      new Map([['ChatAppStatus', { waiting, active: 0, delayed: 0, failed: 0 }]]);
    const sampler = new BacklogSampler({
      sources: {
        jobCounts: async () => {
          if (fail) throw new Error('Connection is closed.');
          return counts();
        },
        deadLetters: async () => 0,
        smqQueues: async () => [],
      },
      metrics: new Metrics({ defaultMetrics: false }),
      logger,
      intervalMs: 5000,
      smqIntervalMs: 30_000,
      now: () => now,
    });
    await sampler.sample();
    now = 5000;
    waiting = 3000;
    await sampler.sample();
    fail = true;
    await sampler.sample();
    await sampler.sample();
    fail = false;
    now = 10_000;
    waiting = 0;
    await sampler.sample();
    const events = lines.map(l => [l['event'], l['left'], l['netRatePerSecond'], l['level']]);
    assert.deepEqual(events, [
      ['backlog_progress', 3000, 400, 'info'],
      ['sample_failed', undefined, undefined, 'warn'],
      ['backlog_drained', 0, undefined, 'info'],
    ]);
  });
});
