import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { IdFactory } from '../../src/emulator/ids.js';
import { DEFAULT_QUEUE_ATTRIBUTES, type StoredMessage } from '../../src/emulator/queue-types.js';
import { EmulatedQueue } from '../../src/emulator/queue.js';

// The queue's state machine on a mocked clock: retention and long delays cannot be waited out in real time.
beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 }));
afterEach(() => mock.timers.reset());

function queue(changes: Partial<typeof DEFAULT_QUEUE_ATTRIBUTES> = {}): EmulatedQueue {
  return new EmulatedQueue('q', { ...DEFAULT_QUEUE_ATTRIBUTES, ...changes }, new IdFactory());
}

function send(q: EmulatedQueue, body: string, delaySeconds?: number): StoredMessage {
  return q.send(body, 'MD5', 8, delaySeconds);
}

test('retention drops messages whatever their state, and their handles die with them', () => {
  const q = queue({ messageRetentionPeriod: 60 });
  send(q, 'visible');
  send(q, 'in-flight');
  const [first] = q.receive(1);
  mock.timers.tick(30_000);
  send(q, 'younger');
  mock.timers.tick(30_001);
  assert.equal(q.checkHandle(first?.handle ?? ''), 'missing');
  const stats = q.snapshot();
  assert.equal(stats.expired, 2);
  assert.equal(stats.visible, 1);
  assert.equal(stats.inFlight, 0);
  assert.deepEqual(
    q.receive(16).map(m => m.dequeueCount),
    [1],
  );
});

test('a received message past retention is not delivered even before housekeeping runs', () => {
  const q = queue({ messageRetentionPeriod: 60 });
  send(q, 'old');
  mock.timers.tick(60_001);
  assert.deepEqual(q.receive(16), []);
  assert.equal(q.snapshot().expired, 1);
});

test('a three-day delay, then visibility, then the in-flight timeout', () => {
  const q = queue({ visibilityTimeout: 30 });
  const delayed = send(q, 'later', 259200);
  assert.equal(q.snapshot().delayed, 1);
  mock.timers.tick(259_199_999);
  assert.deepEqual(q.receive(1), []);
  mock.timers.tick(1);
  const [m] = q.receive(1);
  assert.equal(m, delayed);
  assert.equal(m?.visibleAtMs, Date.now() + 30_000);
  mock.timers.tick(30_000);
  assert.deepEqual(q.snapshot(), {
    sent: 1,
    received: 1,
    deleted: 0,
    expired: 0,
    inFlight: 0,
    visible: 1,
    delayed: 0,
  });
});

test('a delay longer than retention means the message is never delivered', () => {
  const q = queue({ messageRetentionPeriod: 345600 });
  send(q, 'too-late', 604800);
  mock.timers.tick(604_800_000);
  assert.deepEqual(q.receive(16), []);
  assert.equal(q.snapshot().expired, 1);
});

test('only the newest handle works, and only until NextVisibleTime', () => {
  const q = queue({ visibilityTimeout: 10 });
  send(q, 'm');
  const [m] = q.receive(1);
  const first = m?.handle ?? '';
  const changed = q.changeVisibility(first, 100);
  assert.equal(typeof changed, 'object');
  const second = (changed as StoredMessage).handle;
  assert.equal(q.checkHandle(first), 'missing');
  mock.timers.tick(99_999);
  assert.equal(q.checkHandle(second), m);
  mock.timers.tick(1);
  assert.equal(q.delete(second), 'missing');
  assert.equal(q.delete('1-zz-zzTAGTAG'), 'malformed');
});
