import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { standaloneRedis } from '../../src/redis/options.js';
import { partitionPrefix } from '../../src/redis/partitions.js';
import calculateSlot from 'cluster-key-slot';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, recordingHandler, statusEnvelope } from './harness.js';

const open: Pipeline[] = [];
const redis = new Redis(redisUrl());
after(async () => {
  await Promise.all(open.map(p => p.close()));
  redis.disconnect();
});

function start(handlers: Parameters<typeof createPipeline>[0], prefix: string, parts: number, prev = 0) {
  const { pipeline } = createPipeline(handlers, {
    redis: { ...standaloneRedis(redisUrl(), prefix, parts), previousPartitions: prev },
  });
  open.push(pipeline);
  return pipeline;
}

async function runAll(p: Pipeline, envelopes: ReturnType<typeof statusEnvelope>[]): Promise<void> {
  await p.waitUntilReady();
  const results = await p.sink.submit(envelopes);
  const outcomes = await Promise.all(results.map(r => p.completions!.wait('ChatAppStatus', r.jobId)));
  assert.ok(
    outcomes.every(o => o === 'completed'),
    outcomes.join(),
  );
}

/** The distinct hash tags the keys under a base tag use, e.g. `{t-p0}`. */
async function tagsUsed(base: string): Promise<Set<string>> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${base}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) found.add(k.slice(0, k.indexOf('}') + 1));
  } while (cursor !== '0');
  return found;
}

test('with 3 partitions, receipts and duplicates are handled once each, under three hash tags', async () => {
  const tag = uniquePrefix('parts').replace(/[{}]/g, '');
  const h = recordingHandler('h');
  const p = start([h], `{${tag}}`, 3);
  const receipts = Array.from({ length: 60 }, (_, i) => statusEnvelope(`pt-${i}`, 'Read'));
  await runAll(p, [...receipts, ...receipts.slice(0, 20)]);
  await runAll(p, receipts.slice(20, 40));
  assert.equal(h.calls.length, 60);
  assert.equal(new Set(h.calls.map(c => c.key)).size, 60, 'no receipt handled twice');
  const tags = await tagsUsed(tag);
  for (const i of [0, 1, 2]) {
    const own = partitionPrefix(`{${tag}}`, i, 3);
    assert.ok(tags.has(own), `partition ${i} (${own}) in ${[...tags].join()}`);
  }
});

test('going from 1 partition to 3 with previousPartitions 1 re-runs nothing already completed', async () => {
  const tag = uniquePrefix('migrate').replace(/[{}]/g, '');
  const receipts = Array.from({ length: 30 }, (_, i) => statusEnvelope(`mg-${i}`, 'Read'));
  const before = recordingHandler('h');
  const one = start([before], `{${tag}}`, 1);
  await runAll(one, receipts.slice(0, 20));
  await one.close();
  const afterwards = recordingHandler('h');
  const three = start([afterwards], `{${tag}}`, 3, 1);
  await runAll(three, receipts);
  assert.equal(before.calls.length, 20);
  const ranAgain = afterwards.calls.filter(c => before.calls.some(b => b.key === c.key));
  assert.deepEqual(ranAgain, [], 'records of the 1-partition layout are honoured');
  assert.equal(afterwards.calls.length, 10, 'only the 10 new receipts ran');
});

test('partition tags fall one per equal slot range, so equal-range masters get equal shares', () => {
  assert.equal(partitionPrefix('{cams}', 0, 1), '{cams}', 'one partition keeps the prefix as it is');
  for (const count of [2, 3, 6, 8, 64]) {
    const prefixes = Array.from({ length: count }, (_, p) => partitionPrefix('{cams}:x', p, count));
    assert.equal(new Set(prefixes).size, count);
    for (const [p, prefix] of prefixes.entries()) {
      assert.match(prefix, new RegExp(`^\\{cams-p${p}(-\\d+)?\\}:x$`));
      const slot = calculateSlot(prefix);
      assert.ok(
        slot >= Math.floor((p * 16384) / count) && slot < Math.floor(((p + 1) * 16384) / count),
        prefix,
      );
    }
  }
});
