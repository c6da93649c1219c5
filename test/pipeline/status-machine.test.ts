import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { transition } from '../../src/pipeline/status-machine.js';
import { MAX_HISTORY, StatusStore } from '../../src/pipeline/status-store.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';

/** Folds statuses through the pure rule: the state at the end, and which ones advanced or were anomalies. */
function fold(statuses: readonly string[]) {
  let state: string | undefined;
  const advanced: string[] = [];
  const anomalies: string[] = [];
  for (const s of statuses) {
    const t = transition(state, s);
    if (t.advances) advanced.push(s);
    if (t.anomaly) anomalies.push(s);
    state = t.state;
  }
  return { state, advanced, anomalies };
}

test('forward-only by rank, skips allowed; stale and repeated statuses do not advance', () => {
  assert.deepEqual(fold(['Sent', 'Delivered', 'Read']).advanced, ['Sent', 'Delivered', 'Read']);
  assert.deepEqual(
    fold(['Read']),
    { state: 'Read', advanced: ['Read'], anomalies: [] },
    'Read with no Delivered',
  );
  assert.deepEqual(fold(['Read', 'Delivered', 'Sent']), { state: 'Read', advanced: ['Read'], anomalies: [] });
  assert.deepEqual(fold(['Delivered', 'Delivered']).advanced, ['Delivered']);
});

test('Failed is terminal; Failed after Delivered or Read, or those after Failed, are anomalies', () => {
  assert.deepEqual(fold(['Sent', 'Failed', 'Sent']), {
    state: 'Failed',
    advanced: ['Sent', 'Failed'],
    anomalies: [],
  });
  assert.deepEqual(fold(['Delivered', 'Failed']), {
    state: 'Delivered',
    advanced: ['Delivered'],
    anomalies: ['Failed'],
  });
  assert.deepEqual(fold(['Failed', 'Read']), { state: 'Failed', advanced: ['Failed'], anomalies: ['Read'] });
});

test('Deleted and Viber subscribe/unsubscribe pass as events, never moving the state', () => {
  for (const status of ['Deleted', 'subscribe', 'unsubscribe', 'SomethingNew']) {
    const t = transition('Delivered', status);
    assert.deepEqual(
      { event: t.event, advances: t.advances, state: t.state, anomaly: t.anomaly },
      { event: true, advances: false, state: 'Delivered', anomaly: false },
      status,
    );
  }
});

test('the store: applying a status again gives its first answer; history is bounded; the record expires', async () => {
  const redis = new Redis(redisUrl());
  const store = new StatusStore(redis, uniquePrefix('status'), 3600);
  try {
    const first = await store.apply('m1', 'Delivered', 1000);
    assert.equal(first.advances, true);
    assert.equal((await store.apply('m1', 'Delivered', 1500)).advances, true, 'a retry advances again');
    await store.apply('m1', 'Read', 2000);
    const again = await store.apply('m1', 'Read', 3000);
    assert.deepEqual(
      { advances: again.advances, previous: again.previous, state: again.state },
      { advances: true, previous: 'Delivered', state: 'Read' },
      'a retry of Read gets the answer of its first application',
    );
    assert.deepEqual(again.history, [
      { status: 'Delivered', atMs: 1000 },
      { status: 'Read', atMs: 2000 },
    ]);
    for (let i = 0; i < 40; i += 1) await store.apply('m1', `event-${i}`, 4000 + i);
    const last = await store.apply('m1', 'Sent', 9000);
    assert.equal(last.history.length, MAX_HISTORY);
    assert.deepEqual(
      last.history.slice(0, 2).map(e => e.status),
      ['Delivered', 'Read'],
      'states kept, old events dropped',
    );
    assert.equal(last.state, 'Read');
    const ttl = await redis.ttl(store.key('m1'));
    assert.ok(ttl > 3500 && ttl <= 3600, `ttl ${ttl}`);
  } finally {
    redis.disconnect();
  }
});

test('the store: a retry of a status that a later one overtook no longer advances', async () => {
  const redis = new Redis(redisUrl());
  const store = new StatusStore(redis, uniquePrefix('status'), 3600);
  try {
    assert.equal((await store.apply('m2', 'Delivered', 1)).advances, true);
    assert.equal((await store.apply('m2', 'Read', 2)).advances, true);
    const retry = await store.apply('m2', 'Delivered', 3);
    assert.deepEqual({ advances: retry.advances, state: retry.state }, { advances: false, state: 'Read' });
    assert.equal((await store.apply('m2', 'Read', 4)).advances, true, 'a retry of the newest still advances');
  } finally {
    redis.disconnect();
  }
});
