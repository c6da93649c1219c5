import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { checkWorkers, createHealthChecker, type WorkerState } from '../../src/observability/health.js';
import { PrivateRedis, eventually } from '../helpers/redis.js';
import { createPipeline, recordingHandler } from '../pipeline/harness.js';

const NOW = 1_700_000_000_000;

function worker(state: Partial<WorkerState> = {}): WorkerState {
  return {
    messageType: 'ChatAppStatus',
    slots: 16,
    active: 0,
    running: true,
    startedAtMs: NOW - 600_000,
    lastFetchAtMs: NOW - 2_000,
    ...state,
  };
}

describe('worker readiness (pure)', () => {
  test('workers that fetched (or found their queue empty) lately are ready', () => {
    assert.deepEqual(checkWorkers([worker(), worker({ lastFetchAtMs: NOW - 29_000 })], NOW, 30_000), {
      ok: true,
    });
  });

  test('a worker silent for longer than the limit fails readiness, naming which and for how long', () => {
    const r = checkWorkers([worker(), worker({ lastFetchAtMs: NOW - 45_000 })], NOW, 30_000);
    assert.equal(r.ok, false);
    assert.match(
      r.reason ?? '',
      /worker 2 of 2 has neither fetched a job nor found its queue empty for 45 s \(limit 30 s\)/,
    );
  });

  test('a worker with every slot busy fetches nothing, and is not stale', () => {
    const r = checkWorkers([worker({ lastFetchAtMs: NOW - 90_000, active: 16 })], NOW, 30_000);
    assert.equal(r.ok, true);
    assert.match(r.detail ?? '', /1 of 1 workers saturated/);
  });

  test('a new worker gets the limit from its start; a worker that stopped running fails', () => {
    assert.equal(
      checkWorkers([worker({ lastFetchAtMs: undefined, startedAtMs: NOW - 5_000 })], NOW, 30_000).ok,
      true,
    );
    const stopped = checkWorkers([worker({ running: false })], NOW, 30_000);
    assert.equal(stopped.ok, false);
    assert.match(stopped.reason ?? '', /worker 1 of 1 is not running/);
  });

  test('the daemon checks the workers of each type as one part', async () => {
    const checker = createHealthChecker({
      pingRedis: async () => 'PONG',
      workers: () => [worker(), worker({ messageType: 'ChatAppInbound', lastFetchAtMs: NOW - 60_000 })],
      workerStaleAfterMs: 30_000,
      now: () => NOW,
    });
    const r = await checker.check();
    assert.equal(r.ok, false);
    assert.equal(r.parts['workers:ChatAppStatus']?.ok, true);
    assert.equal(r.parts['workers:ChatAppInbound']?.ok, false);
  });
});

test('real workers whose fetches stop reaching Redis (PING still answers) fail readiness, and recover', async () => {
  const redis = await PrivateRedis.start();
  const { pipeline } = createPipeline([recordingHandler('h')], {
    url: redis.url,
    config: { concurrency: 4 },
  });
  const admin = new Redis(redis.url);
  const health = createHealthChecker({
    pingRedis: () => pipeline.redis.ping(),
    workers: () => pipeline.workers?.health() ?? [],
    // An idle worker asks Redis for work every 5 s (BullMQ's drainDelay).
    workerStaleAfterMs: 8_000,
  });
  try {
    await pipeline.waitUntilReady();
    await eventually(
      () => (pipeline.workers?.health() ?? []).every(w => w.lastFetchAtMs !== undefined),
      10_000,
      'every worker fetched once',
    );
    assert.equal((await health.check()).ok, true);
    // Write commands (BZPOPMIN, the fetch script) wait; PING still answers: only the workers are cut off.
    await admin.call('CLIENT', 'PAUSE', '40000', 'WRITE');
    await eventually(
      async () => {
        const r = await health.check();
        return (
          !r.ok &&
          r.parts['redis']?.ok === true &&
          /neither fetched/.test(r.parts['workers:ChatAppStatus']?.reason ?? '')
        );
      },
      20_000,
      'readiness to report the silent workers while Redis answers PING',
    );
    await admin.call('CLIENT', 'UNPAUSE');
    await eventually(async () => (await health.check()).ok, 15_000, 'ready again once the workers fetch');
  } finally {
    await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    admin.disconnect();
    await pipeline.close();
    await redis.destroy();
  }
});
