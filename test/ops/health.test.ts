import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createAdminServer } from '../../src/http/admin-routes.js';
import type {
  ConsumerHealth as ConsumerState,
  TokenStatus as TokenState,
} from '../../src/contracts/telemetry.js';
import { createHealthChecker, type ConsumerProbe } from '../../src/observability/health.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { closeConnection, producerConnection } from '../../src/redis/connection.js';
import { PrivateRedis, eventually } from '../helpers/redis.js';
import { standaloneRedis } from '../../src/redis/options.js';

const NOW = 1_700_000_000_000;

function consumer(
  state: Partial<ConsumerState> = {},
  probe: Partial<ConsumerProbe> = {},
): ConsumerProbe & { state: ConsumerState } {
  const full: ConsumerState = {
    queueName: 'Alicom-Queue-1-ChatAppStatus',
    messageType: 'ChatAppStatus',
    running: true,
    lastPollOkAtMs: NOW - 1000,
    consecutiveFailures: 0,
    queueMissing: false,
    inFlight: 0,
    ...state,
  };
  return {
    waitSeconds: 10,
    maxInFlight: 64,
    startedAtMs: NOW - 3_600_000,
    ...probe,
    state: full,
    health() {
      return this.state;
    },
  };
}

describe('readiness probes (pure)', () => {
  const ok = async () => 'PONG';

  test('all parts ok: ready', async () => {
    const checker = createHealthChecker({ pingRedis: ok, consumers: () => [consumer()], now: () => NOW });
    const result = await checker.check();
    assert.equal(result.ok, true);
    assert.deepEqual(Object.keys(result.parts).sort(), ['consumer:Alicom-Queue-1-ChatAppStatus', 'redis']);
  });

  test('Redis failing or silent: not ready, with the reason', async () => {
    const failing = createHealthChecker({
      pingRedis: async () => Promise.reject(new Error('connect ECONNREFUSED')),
    });
    const r1 = await failing.check();
    assert.equal(r1.ok, false);
    assert.match(r1.parts['redis']?.reason ?? '', /Redis unreachable: connect ECONNREFUSED/);

    const silent = createHealthChecker({ pingRedis: () => new Promise(() => undefined), redisTimeoutMs: 50 });
    const r2 = await silent.check();
    assert.equal(r2.ok, false);
    assert.match(r2.parts['redis']?.reason ?? '', /no answer to PING within 50 ms/);
  });

  test('a poll older than 2 × waitSeconds + margin fails; recovery makes it ready again', async () => {
    const c = consumer({ lastPollOkAtMs: NOW - 26_000, lastErrorClass: 'network', consecutiveFailures: 4 });
    const checker = createHealthChecker({
      pingRedis: ok,
      consumers: () => [c],
      pollMarginMs: 5000,
      now: () => NOW,
    });
    const stale = await checker.check();
    assert.equal(stale.ok, false);
    const reason = stale.parts['consumer:Alicom-Queue-1-ChatAppStatus']?.reason ?? '';
    assert.match(reason, /last poll completed 26 s ago \(limit 25 s\)/);
    assert.match(reason, /4 failure\(s\) in a row, last: network/);

    c.state = { ...c.state, lastPollOkAtMs: NOW - 24_000 };
    assert.equal((await checker.check()).ok, true, 'within the limit');
  });

  test('a missing queue fails with the likely cause; a stopped loop fails', async () => {
    const missing = consumer({ queueMissing: true, lastPollOkAtMs: NOW });
    const stopped = consumer({ queueName: 'other', running: false });
    const result = await createHealthChecker({
      pingRedis: ok,
      consumers: () => [missing, stopped],
      now: () => NOW,
    }).check();
    assert.equal(result.ok, false);
    assert.match(
      result.parts['consumer:Alicom-Queue-1-ChatAppStatus']?.reason ?? '',
      /does not exist \(QueueNotExist\).*queue name/,
    );
    assert.match(result.parts['consumer:other']?.reason ?? '', /not running/);
  });

  test('a new loop gets grace before its first poll; a saturated loop is not stale', async () => {
    const fresh = consumer({ lastPollOkAtMs: undefined }, { startedAtMs: NOW - 2000 });
    const saturated = consumer({ queueName: 'busy', lastPollOkAtMs: NOW - 600_000, inFlight: 64 });
    const neverPolled = consumer(
      { queueName: 'dead', lastPollOkAtMs: undefined },
      { startedAtMs: NOW - 60_000 },
    );
    const result = await createHealthChecker({
      pingRedis: ok,
      consumers: () => [fresh, saturated, neverPolled],
      now: () => NOW,
    }).check();
    assert.equal(result.parts['consumer:Alicom-Queue-1-ChatAppStatus']?.ok, true);
    assert.match(result.parts['consumer:Alicom-Queue-1-ChatAppStatus']?.detail ?? '', /starting/);
    assert.equal(result.parts['consumer:busy']?.ok, true);
    assert.match(result.parts['consumer:busy']?.detail ?? '', /saturated/);
    assert.equal(result.parts['consumer:dead']?.ok, false);
    assert.match(result.parts['consumer:dead']?.reason ?? '', /no poll has completed/);
  });

  test('tokens: expired or never fetched fails; valid with a failing refresh is still ready', async () => {
    const tokens: TokenState[] = [
      { messageType: 'ChatAppStatus', queueName: 'expired', expireAtMs: NOW - 1, lastErrorClass: 'auth' },
      { messageType: 'ChatAppStatus', queueName: 'none', lastErrorClass: 'network' },
      {
        messageType: 'ChatAppStatus',
        queueName: 'refreshing',
        expireAtMs: NOW + 60_000,
        lastErrorClass: 'server',
      },
      { messageType: 'ChatAppStatus', queueName: 'good', expireAtMs: NOW + 600_000 },
    ];
    const result = await createHealthChecker({ pingRedis: ok, tokens: () => tokens, now: () => NOW }).check();
    assert.equal(result.ok, false);
    assert.match(result.parts['token:expired']?.reason ?? '', /token expired at .*last refresh failed: auth/);
    assert.match(result.parts['token:none']?.reason ?? '', /no token: QueryTokenForMnsQueue failed/);
    assert.equal(result.parts['token:refreshing']?.ok, true);
    assert.equal(result.parts['token:good']?.ok, true);
  });

  test('shutting down: not ready, so load balancers stop sending', async () => {
    const result = await createHealthChecker({ pingRedis: ok, shuttingDown: () => true }).check();
    assert.equal(result.ok, false);
    assert.match(result.parts['process']?.reason ?? '', /shutting down/);
  });
});

describe('/readyz against a real Redis that stops and comes back', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('200 → 503 with the Redis reason while it is down → 200 again', async () => {
    const redis = await PrivateRedis.start();
    closers.push(() => redis.destroy());
    const client = producerConnection(standaloneRedis(redis.url), { retryStrategy: () => 100 });
    client.on('error', () => undefined);
    closers.push(() => closeConnection(client));
    const server = await createAdminServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      registry: new Metrics({ defaultMetrics: false }).registry,
      health: createHealthChecker({ pingRedis: () => client.ping(), redisTimeoutMs: 500 }),
    });
    closers.push(() => server.close());
    const { url } = await server.listen();
    const readyz = async () => {
      const res = await fetch(`${url}/readyz`);
      return {
        status: res.status,
        body: (await res.json()) as { status: string; parts: Record<string, { reason?: string }> },
      };
    };

    await eventually(async () => (await readyz()).status === 200, 5000, 'ready with Redis up');
    await redis.stop();
    const down = await readyz();
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'not_ready');
    assert.match(down.body.parts['redis']?.reason ?? '', /Redis unreachable/);
    // Liveness does not depend on Redis.
    assert.equal((await fetch(`${url}/healthz`)).status, 200);

    await redis.restart();
    await eventually(async () => (await readyz()).status === 200, 10_000, 'ready again after Redis returned');
  });
});
