import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Credits } from '../../src/smq/credits.js';

test('room is what neither messages in flight nor receives in progress hold', () => {
  const credits = new Credits(10);
  credits.reserve(4);
  assert.equal(credits.room, 6);
  credits.hold(3); // the receive brought 3 back; its reservation is held until it ends
  assert.equal(credits.room, 3);
  credits.unreserve(4);
  assert.deepEqual([credits.inFlight, credits.used, credits.room], [3, 3, 7]);
});

test('onRoom waits for a release when every credit is out; onIdle for the last one', async () => {
  const credits = new Credits(2);
  assert.equal(credits.onRoom(), undefined, 'room now: nothing to wait for');
  credits.hold(2);
  let roomy = false;
  let idle = false;
  void credits.onRoom()?.then(() => (roomy = true));
  void credits.onIdle().then(() => (idle = true));
  await Promise.resolve();
  assert.equal(roomy, false);
  credits.release();
  await Promise.resolve();
  assert.deepEqual([roomy, idle], [true, false]);
  credits.release();
  await Promise.resolve();
  assert.equal(idle, true);
});

test('wake ends a wait for room without a release (the loop is stopping)', async () => {
  const credits = new Credits(1);
  credits.hold(1);
  const waiting = credits.onRoom();
  credits.wake();
  await waiting;
  assert.equal(credits.room, 0);
});

test('a maxInFlight below 1 or not an integer throws instead of being clamped', () => {
  assert.throws(() => new Credits(0), /maxInFlight to be an integer >= 1, got 0/);
  assert.throws(() => new Credits(2.5), RangeError);
});
