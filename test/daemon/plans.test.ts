import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/types.js';
import { consumerId, planListeners, planReload } from '../../src/daemon/plans.js';
import { tempDir } from '../config/fixtures.js';

/** A configuration loaded as `start` loads it, from a default.json and one queue file. */
function config(settings: object, queues: object[] = []): AppConfig {
  const dir = tempDir({ 'config/default.json': settings, 'config/queues/q.json': queues });
  return loadConfig({ cwd: dir, env: {} });
}

const status = { messageType: 'ChatAppStatus', queueName: 'Alicom-Queue-1-ChatAppStatus' };
const inbound = { messageType: 'ChatAppInbound', queueName: 'Alicom-Queue-1-ChatAppInbound' };

test('planReload starts new queue pairs, stops removed ones, forgets their tokens, keeps the rest', () => {
  const current = config({}, [status, inbound]);
  const next = config({ smq: { waitSeconds: 5 }, redis: { prefix: '{other}' } }, [status]);
  const running = current.consumers.map(consumerId);
  const plan = planReload(current, next, running);
  assert.deepEqual(plan.start, []);
  assert.deepEqual(plan.stop, [consumerId(current.consumers[1]!)]);
  assert.deepEqual(plan.forgetTokens, [['ChatAppInbound', 'Alicom-Queue-1-ChatAppInbound']]);
  assert.deepEqual(plan.restartNeeded, ['redis']);
  assert.equal(plan.config.smq.waitSeconds, 5, 'smq settings apply at once');
  assert.equal(plan.config.redis.prefix, current.redis.prefix, 'redis waits for a restart');

  const back = planReload(plan.config, current, [running[0]!]);
  assert.deepEqual(back.start.map(consumerId), [running[1]]);
  assert.deepEqual(back.stop, []);
});

test('planReload keeps a token a remaining consumer still signs with, and runs no loop in a worker', () => {
  const elsewhere = { ...inbound, endpoint: 'http://127.0.0.1:9/' };
  const current = config({}, [inbound, elsewhere]);
  const next = config({}, [elsewhere]);
  assert.deepEqual(planReload(current, next, current.consumers.map(consumerId)).forgetTokens, []);
  const worker = { ...current, role: 'worker' as const };
  assert.deepEqual(planReload(worker, next, []).start, []);
});

test('planListeners: admin.port gets its own listener; a worker serves health on http.port, takes no pushes', () => {
  const base = config({ http: { port: 8080 } });
  assert.deepEqual(planListeners(base), { push: true });
  assert.deepEqual(planListeners({ ...base, admin: { ...base.admin, port: 9090 } }), {
    admin: { host: base.admin.host, port: 9090 },
    push: true,
  });
  assert.deepEqual(planListeners({ ...base, role: 'worker' }), {
    admin: { host: base.http.host, port: 8080 },
    push: false,
  });
  assert.deepEqual(planListeners({ ...base, http: { ...base.http, port: 0 } }), { push: false });
});
