import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnBatcher } from '../../src/util/turn-batcher.js';

test('calls made in one turn share one send, in order; the next turn starts a new batch', async () => {
  const sent: number[][] = [];
  const batcher = new TurnBatcher<number, string>(async items => {
    sent.push([...items]);
    return items.map(i => `r${i}`);
  });
  const first = await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
  const second = await batcher.add(4);
  assert.deepEqual(first, ['r1', 'r2', 'r3']);
  assert.equal(second, 'r4');
  assert.deepEqual(sent, [[1, 2, 3], [4]]);
});

test('large turns go out in chunks of 128, and a failed chunk fails only its own calls', async () => {
  const sizes: number[] = [];
  const batcher = new TurnBatcher<number, number>(async items => {
    sizes.push(items.length);
    if (items.includes(200)) throw new Error('Redis went away');
    return items.map(i => i * 2);
  });
  const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => batcher.add(i)));
  assert.deepEqual(sizes, [128, 128, 44]);
  assert.deepEqual(
    results.slice(0, 128).map(r => (r.status === 'fulfilled' ? r.value : -1)),
    Array.from({ length: 128 }, (_, i) => i * 2),
  );
  assert.ok(
    results.slice(128, 256).every(r => r.status === 'rejected' && /went away/.test(String(r.reason))),
  );
  assert.ok(results.slice(256).every(r => r.status === 'fulfilled'));
});
