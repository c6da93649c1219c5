import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundSideCalls } from '../../src/smq/bounded-client.js';
import type { SmqQueueClient } from '../../src/smq/types.js';

/** A client whose calls stay open until released, counting how many are open at once. */
function slowClient() {
  let open = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const hold = <T>(value: T): Promise<T> => {
    open += 1;
    peak = Math.max(peak, open);
    return new Promise(resolve =>
      releases.push(() => {
        open -= 1;
        resolve(value);
      }),
    );
  };
  const client: SmqQueueClient = {
    receive: () => hold([]),
    deleteBatch: () => hold([]),
    changeVisibility: handle => hold({ receiptHandle: `${handle}'`, nextVisibleTimeMs: 1 }),
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.splice(0).forEach(r => r());
      await new Promise(resolve => setImmediate(resolve));
    }
  };
  return { client, releaseAll, peak: () => peak, open: () => open };
}

test('extensions and deletes share one bound; every call still completes with its own result', async () => {
  const slow = slowClient();
  const bounded = boundSideCalls(slow.client, 4);
  const calls = [
    ...Array.from({ length: 10 }, (_, i) => bounded.changeVisibility(`h${i}`, 30)),
    ...Array.from({ length: 10 }, () => bounded.deleteBatch(['x'])),
  ];
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(slow.open(), 4);
  await slow.releaseAll();
  const results = await Promise.all(calls);
  assert.equal(slow.peak(), 4);
  assert.deepEqual(results[0], { receiptHandle: "h0'", nextVisibleTimeMs: 1 });
  assert.deepEqual(results[19], []);
});

test('the long poll is not held back by side calls', async () => {
  const slow = slowClient();
  const bounded = boundSideCalls(slow.client, 1);
  void bounded.changeVisibility('h', 30);
  void bounded.receive(16, 30);
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(slow.open(), 2);
  await slow.releaseAll();
});
