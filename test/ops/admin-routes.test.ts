import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createAdminServer, mountAdmin } from '../../src/http/admin-routes.js';
import { createHttpServer } from '../../src/http/server.js';
import { createHealthChecker, type PartStatus } from '../../src/observability/health.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { waitReady } from '../../src/redis/connection.js';
import { createPipeline } from '../pipeline/harness.js';
import { httpConfig } from '../http/helpers.js';

interface ReadyBody {
  readonly status: string;
  readonly parts: Record<string, PartStatus>;
}

describe('admin routes over real HTTP', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('separate admin server: /healthz, /readyz 200 then 503 with a reason per failing part, /metrics', async () => {
    let redisUp = true;
    let lastPollOkAtMs = Date.now();
    const metrics = new Metrics();
    const server = await createAdminServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      registry: metrics.registry,
      health: createHealthChecker({
        pingRedis: async () => {
          if (!redisUp) throw new Error('Connection is closed.');
          return 'PONG';
        },
        consumers: () => [
          {
            waitSeconds: 1,
            maxInFlight: 8,
            startedAtMs: 0,
            health: () => ({
              queueName: 'Alicom-Queue-1-ChatAppInbound',
              messageType: 'ChatAppInbound',
              running: true,
              lastPollOkAtMs,
              consecutiveFailures: 0,
              queueMissing: false,
              inFlight: 0,
            }),
          },
        ],
        pollMarginMs: 1000,
      }),
    });
    closers.push(() => server.close());
    const { url } = await server.listen();

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`${url}/healthz`, { method: 'HEAD' })).status, 200);

    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as ReadyBody).status, 'ready');

    redisUp = false;
    lastPollOkAtMs = Date.now() - 10_000;
    const notReady = await fetch(`${url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.equal(notReady.headers.get('cache-control'), 'no-store');
    const body = (await notReady.json()) as ReadyBody;
    assert.equal(body.status, 'not_ready');
    assert.equal(body.parts['redis']?.ok, false);
    assert.match(body.parts['redis']?.reason ?? '', /Connection is closed/);
    assert.match(
      body.parts['consumer:Alicom-Queue-1-ChatAppInbound']?.reason ?? '',
      /last poll completed 10 s ago/,
    );
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'liveness stays up');

    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /# HELP cams_receipts_received_total/);
    assert.equal((await fetch(`${url}/nope`)).status, 404);
    assert.equal((await fetch(`${url}/admin`)).status, 404, 'no dashboard unless enabled');
  });

  test('admin.port 0: mounted on the push server beside the push routes', async () => {
    const { pipeline } = createPipeline([], { workers: false });
    closers.push(() => pipeline.close());
    await waitReady(pipeline.redis, 5000);
    const metrics = new Metrics({ defaultMetrics: false });
    const http = createHttpServer({
      config: httpConfig(),
      sink: pipeline.sink,
      deadLetters: pipeline.deadLetters,
      logger: silentLogger(),
      onPush: e => metrics.pushRequest(e),
    });
    await mountAdmin(http.app, {
      registry: metrics.registry,
      health: createHealthChecker({ pingRedis: () => pipeline.redis.ping() }),
    });
    closers.push(() => http.close());
    const { url } = await http.listen();

    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    const push = await fetch(`${url}/appstatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ MessageId: 'admin-1', Status: 'Delivered' }]),
    });
    assert.equal(push.status, 200);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /cams_receipts_http_push_requests_total\{type="ChatAppStatus",status="200"\} 1/);
    assert.match(text, /cams_receipts_enqueued_total\{queue="http",type="ChatAppStatus"\} 1/);
  });
});
