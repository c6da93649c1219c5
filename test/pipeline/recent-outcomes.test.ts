import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentOutcomes } from '../../src/pipeline/recent-outcomes.js';

test('outcomes are kept for one to two generations, then forgotten', () => {
  let now = 0;
  const recent = new RecentOutcomes(1_000, 100, () => now);
  recent.remember('a', 'completed');
  now = 1_500;
  recent.remember('b', 'dead_lettered'); // starts a new generation; 'a' is in the previous one
  assert.equal(recent.get('a'), 'completed');
  assert.equal(recent.get('b'), 'dead_lettered');
  now = 3_000;
  recent.remember('c', 'completed');
  assert.equal(recent.get('a'), undefined, 'two generations old');
  assert.equal(recent.get('b'), 'dead_lettered');
});

test('a generation holds at most maxEntries, whatever the rate', () => {
  const recent = new RecentOutcomes(60_000, 3, () => 0);
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) recent.remember(key, 'completed');
  assert.equal(recent.get('a'), undefined);
  assert.equal(recent.get('d'), 'completed');
  assert.equal(recent.get('g'), 'completed');
});
