import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/smq/backoff.js';
import { sleep } from '../../src/util/async.js';

test('full jitter: the ceiling doubles per failure up to the max, and reset starts over', () => {
  const top = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => top.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  assert.equal(top.attempt, 6);
  top.reset();
  assert.equal(top.next(), 100);
  const half = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.5 });
  assert.deepEqual([half.next(), half.next(), half.next()], [50, 100, 200]);
  const zero = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  assert.equal(zero.next(), 0);
});

test('a backoff with bad bounds is refused', () => {
  assert.throws(() => new Backoff({ baseMs: 0, maxMs: 10 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 100, maxMs: 10 }), RangeError);
});

test('sleep resolves true after the time, false at once when aborted', async () => {
  assert.equal(await sleep(5), true);
  const ac = new AbortController();
  const pending = sleep(60_000, ac.signal);
  ac.abort();
  assert.equal(await pending, false);
  assert.equal(await sleep(60_000, ac.signal), false);
});
