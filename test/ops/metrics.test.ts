import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, describe, test } from 'node:test';
import { PermanentError } from '../../src/errors.js';
import type { Handler } from '../../src/contracts/handler.js';
import { createAdminServer } from '../../src/http/admin-routes.js';
import { createHealthChecker } from '../../src/observability/health.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Observable, TokenEvents } from '../../src/contracts/telemetry.js';
import { Metrics, type ObservedConsumer } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parsedMessageFor } from '../../src/receipts/inbound.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { TEST_PIPELINE, lookup, recordingHandler, statusEnvelope } from '../pipeline/harness.js';
import { captureLogger } from '../handlers/helpers.js';
import { sample } from './helpers.js';
import { standaloneRedis } from '../../src/redis/options.js';

type Labels = Record<string, string | number>;

/** The value of one series; histograms report their observation count. */
async function value(metrics: Metrics, name: string, labels: Labels = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const data = await metric.get();
  const histogram = String(data.type) === 'histogram';
  const values = data.values as { value: number; labels: Labels; metricName?: string }[];
  const found = values.find(
    v =>
      (!histogram || v.metricName === `${name}_count`) &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === String(want)),
  );
  return found?.value ?? 0;
}

/** A consumer stand-in: the same events and `inFlight` as SmqConsumer. */
class FakeConsumer extends EventEmitter {
  inFlight = 0;
}

describe('Metrics API', () => {
  test('consumer events move the per-queue counters by the reported amounts', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const consumer = new FakeConsumer();
    const labels = { queue: 'Alicom-Queue-1-ChatAppStatus', type: 'ChatAppStatus' };
    const detach = metrics.observeConsumer(consumer as unknown as ObservedConsumer, labels);

    consumer.emit('received', { count: 16 });
    consumer.emit('received', { count: 4 });
    consumer.emit('enqueued', { count: 18 });
    consumer.emit('duplicate', { count: 2 });
    consumer.emit('deleted', { count: 19 });
    consumer.emit('delete_failed', { code: 'MessageNotExist', count: 1 });
    consumer.emit('lease_extended', { messageId: 'm1' });
    consumer.emit('lease_extended', { messageId: 'm2' });
    consumer.emit('lease_expired', { messageId: 'm3', reason: 'max_lease' });
    consumer.emit('backoff', { errorClass: 'throttled', delayMs: 100 });
    consumer.emit('backoff', { errorClass: 'throttled', delayMs: 200 });
    consumer.emit('backoff', { errorClass: 'network', delayMs: 100 });
    consumer.emit('poll_completed', { atMs: 1_700_000_000_000, count: 16 });
    consumer.emit('dead_lettered', { reason: 'decode' });
    consumer.inFlight = 7;

    assert.equal(await value(metrics, 'cams_receipts_received_total', labels), 20);
    assert.equal(await value(metrics, 'cams_receipts_enqueued_total', labels), 18);
    assert.equal(await value(metrics, 'cams_receipts_duplicates_total', labels), 2);
    assert.equal(await value(metrics, 'cams_receipts_deleted_total', labels), 19);
    assert.equal(
      await value(metrics, 'cams_receipts_delete_failures_total', { ...labels, code: 'MessageNotExist' }),
      1,
    );
    assert.equal(await value(metrics, 'cams_receipts_lease_extensions_total', labels), 2);
    assert.equal(
      await value(metrics, 'cams_receipts_lease_expirations_total', { ...labels, reason: 'max_lease' }),
      1,
    );
    assert.equal(await value(metrics, 'cams_receipts_backoffs_total', { ...labels, class: 'throttled' }), 2);
    assert.equal(await value(metrics, 'cams_receipts_backoffs_total', { ...labels, class: 'network' }), 1);
    assert.equal(await value(metrics, 'cams_receipts_polls_total', labels), 1);
    assert.equal(await value(metrics, 'cams_receipts_last_poll_timestamp_seconds', labels), 1_700_000_000);
    assert.equal(
      await value(metrics, 'cams_receipts_dead_lettered_total', { ...labels, reason: 'decode' }),
      1,
    );
    assert.equal(await value(metrics, 'cams_receipts_in_flight', labels), 7);

    // A consumer removed by a reload stops counting and its in-flight series goes away.
    detach();
    consumer.emit('received', { count: 100 });
    assert.equal(await value(metrics, 'cams_receipts_received_total', labels), 20);
    assert.ok(!(await metrics.text()).includes('cams_receipts_in_flight{'), 'in-flight series removed');
  });

  test('token events count refreshes and failures per queue, and expose the expiry', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const tokens = new EventEmitter();
    metrics.observeTokens(tokens as unknown as Observable<TokenEvents>);
    const labels = { queue: 'q-status', type: 'ChatAppStatus' };
    tokens.emit('token_refreshed', {
      messageType: 'ChatAppStatus',
      queueName: 'q-status',
      expireAtMs: 2_000_000_000_000,
    });
    tokens.emit('token_refreshed', {
      messageType: 'ChatAppStatus',
      queueName: 'q-status',
      expireAtMs: 2_000_000_600_000,
    });
    tokens.emit('token_failed', { messageType: 'ChatAppStatus', queueName: 'q-status', errorClass: 'auth' });
    assert.equal(await value(metrics, 'cams_receipts_token_refreshes_total', labels), 2);
    assert.equal(await value(metrics, 'cams_receipts_token_failures_total', { ...labels, class: 'auth' }), 1);
    assert.equal(await value(metrics, 'cams_receipts_token_expiry_timestamp_seconds', labels), 2_000_000_600);
  });

  test('pipeline hooks: handler failures, durations, processed jobs, latency and dead letters', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.handlerFinished({ handler: 'log', messageType: 'ChatAppStatus', durationMs: 12, ok: true });
    metrics.handlerFinished({ handler: 'log', messageType: 'ChatAppStatus', durationMs: 40, ok: false });
    const base = { messageType: 'ChatAppStatus', source: 'smq', queueName: 'q', attempt: 1, ran: 1 } as const;
    metrics.jobFinished({ ...base, originTimeMs: 1000, outcome: 'completed' }, 1250);
    metrics.jobFinished({ ...base, originTimeMs: 1000, outcome: 'retry' }, 1250);
    metrics.jobFinished({ ...base, originTimeMs: 1000, outcome: 'dead_lettered', reason: 'permanent' }, 1250);
    metrics.jobFinished(
      {
        ...base,
        source: 'http',
        queueName: undefined,
        originTimeMs: 1000,
        outcome: 'dead_lettered',
        reason: 'failed',
      },
      1250,
    );

    assert.equal(
      await value(metrics, 'cams_receipts_handler_duration_seconds', {
        handler: 'log',
        type: 'ChatAppStatus',
      }),
      2,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_failed_total', { handler: 'log', type: 'ChatAppStatus' }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_processed_total', { queue: 'q', type: 'ChatAppStatus' }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_end_to_end_latency_seconds', {
        type: 'ChatAppStatus',
        source: 'smq',
      }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_dead_lettered_total', { queue: 'q', reason: 'permanent' }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_dead_lettered_total', { queue: 'http', reason: 'failed' }),
      1,
    );
    // 250 ms lands in the 0.25 s bucket and not in the 0.1 s one.
    const text = await metrics.text();
    assert.match(
      text,
      /cams_receipts_end_to_end_latency_seconds_bucket\{le="0\.1",type="ChatAppStatus",source="smq"\} 0/,
    );
    assert.match(
      text,
      /cams_receipts_end_to_end_latency_seconds_bucket\{le="0\.25",type="ChatAppStatus",source="smq"\} 1/,
    );
  });

  test('push requests count by status, and only stored batches count as enqueued', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.pushRequest({
      messageType: 'ChatAppStatus',
      status: 200,
      receipts: 10,
      invalid: 2,
      durationMs: 8,
    });
    metrics.pushRequest({
      messageType: 'ChatAppStatus',
      status: 503,
      receipts: 5,
      invalid: 0,
      durationMs: 2000,
    });
    metrics.pushRequest({
      messageType: 'ChatAppStatus',
      status: 400,
      receipts: 0,
      invalid: 0,
      durationMs: 1,
    });
    const http = { queue: 'http', type: 'ChatAppStatus' };
    assert.equal(
      await value(metrics, 'cams_receipts_http_push_requests_total', { type: 'ChatAppStatus', status: 200 }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_http_push_requests_total', { type: 'ChatAppStatus', status: 503 }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_http_push_requests_total', { type: 'ChatAppStatus', status: 400 }),
      1,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_http_push_duration_seconds', { type: 'ChatAppStatus' }),
      1,
    );
    assert.equal(await value(metrics, 'cams_receipts_received_total', { ...http, source: 'http' }), 17);
    assert.equal(await value(metrics, 'cams_receipts_enqueued_total', http), 10);
    assert.equal(
      await value(metrics, 'cams_receipts_dead_lettered_total', { ...http, reason: 'invalid' }),
      2,
    );
  });
});

describe('metrics after a known workload through a real pipeline', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('5 receipts: one handler fails each once, another rejects one receipt for good', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const log = captureLogger('warn');
    // `flaky` fails the first attempt of every receipt; `strict` rejects m-5 for good.
    const flaky = recordingHandler('flaky', { types: ['ChatAppStatus'], failures: 1 });
    const steady = recordingHandler('steady', { types: ['ChatAppStatus'] });
    const strict: Handler = {
      name: 'strict',
      messageTypes: ['ChatAppStatus'],
      handle: receipt => {
        if (receipt.MessageId === 'm-5') throw new PermanentError('m-5 is not acceptable');
      },
    };
    const pipeline = new Pipeline({
      redis: standaloneRedis(redisUrl(), uniquePrefix('ops-metrics')),
      config: TEST_PIPELINE,
      logger: log.logger,
      shutdown: new AbortController().signal,
      workers: {
        handlers: lookup([flaky, steady, strict]),
        types: MESSAGE_TYPES,
        parseInbound: r => parsedMessageFor('ChatAppInbound', r),
        onHandlerFinished: e => metrics.handlerFinished(e),
        onJobFinished: e => metrics.jobFinished(e),
      },
      completions: true,
    });
    closers.push(() => pipeline.close());
    await pipeline.waitUntilReady();

    const envelopes = [1, 2, 3, 4, 5].map(i => statusEnvelope(`m-${i}`));
    const results = await pipeline.sink.submit(envelopes);
    await Promise.all(results.map(r => pipeline.completions?.wait('ChatAppStatus', r.jobId)));

    const type = { type: 'ChatAppStatus' };
    // The completion signal is written with the last handler's record, a moment before the worker's hook runs.
    await eventually(
      async () => (await value(metrics, 'cams_receipts_processed_total', { ...type, queue: 'q' })) === 4,
      5000,
      'four receipts counted as processed',
    );
    assert.equal(
      await value(metrics, 'cams_receipts_end_to_end_latency_seconds', { ...type, source: 'smq' }),
      4,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_dead_lettered_total', { ...type, queue: 'q', reason: 'permanent' }),
      1,
    );
    // Attempt 1: flaky fails on all 5 (m-5 is dead-lettered at once, strict failing permanently).
    // Attempt 2 of m-1..m-4: flaky succeeds; steady and strict are skipped (already completed).
    assert.equal(await value(metrics, 'cams_receipts_failed_total', { ...type, handler: 'flaky' }), 5);
    assert.equal(await value(metrics, 'cams_receipts_failed_total', { ...type, handler: 'strict' }), 1);
    assert.equal(await value(metrics, 'cams_receipts_failed_total', { ...type, handler: 'steady' }), 0);
    assert.equal(
      await value(metrics, 'cams_receipts_handler_duration_seconds', { ...type, handler: 'flaky' }),
      9,
    );
    assert.equal(
      await value(metrics, 'cams_receipts_handler_duration_seconds', { ...type, handler: 'steady' }),
      5,
    );
    assert.equal(await pipeline.deadLetters.count(), 1);
    // Each failed attempt is a warn line with its number, and whether the receipt is tried again.
    const failedAttempts = log.lines
      .filter(l => l['event'] === 'handler_attempt_failed')
      .map(
        l =>
          `${String(l['handler'])} ${String(l['dedupeKey'])} #${String(l['attempt'])} ${l['willRetry'] ? 'retry' : 'final'}`,
      )
      .sort();
    assert.deepEqual(failedAttempts, [
      'flaky m-1|Delivered #1 retry',
      'flaky m-2|Delivered #1 retry',
      'flaky m-3|Delivered #1 retry',
      'flaky m-4|Delivered #1 retry',
      'flaky m-5|Delivered #1 final',
      'strict m-5|Delivered #1 final',
    ]);
    assert.ok(
      log.lines.filter(l => l['event'] === 'handler_attempt_failed').every(l => l['level'] === 'warn'),
    );
  });

  test('/metrics serves the registry over real HTTP, with the Node process metrics', async () => {
    const metrics = new Metrics();
    metrics.received('Alicom-Queue-1-ChatAppStatus', 'ChatAppStatus', 3);
    const server = await createAdminServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      registry: metrics.registry,
      health: createHealthChecker({ pingRedis: async () => 'PONG' }),
    });
    closers.push(() => server.close());
    const { url } = await server.listen();
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(
      sample(
        text,
        'cams_receipts_received_total{queue="Alicom-Queue-1-ChatAppStatus",type="ChatAppStatus",source="smq"}',
      ),
      3,
    );
    assert.match(text, /^# TYPE cams_receipts_handler_duration_seconds histogram$/m);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
  });
});
