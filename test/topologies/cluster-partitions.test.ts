import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { PrivateRedisCluster } from '../../src/local/private-cluster.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { standaloneRedis } from '../../src/redis/options.js';
import { uniquePrefix } from '../helpers/redis.js';
import { createPipeline, recordingHandler, statusEnvelope } from '../pipeline/harness.js';

let cluster: PrivateRedisCluster;
let pipeline: Pipeline | undefined;
before(async () => {
  cluster = await PrivateRedisCluster.start({ replicasPerMaster: 0 });
});
after(async () => {
  await pipeline?.close();
  await cluster?.destroy();
});

async function keysOn(port: number, tag: string): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    const [, keys] = await client.scan('0', 'MATCH', `{${tag}-p*`, 'COUNT', 100_000);
    return keys.length;
  } finally {
    client.disconnect();
  }
}

test('6 partitions on a 3-master cluster: receipts handled once each, keys on every master', async () => {
  const prefix = uniquePrefix('spread');
  const h = recordingHandler('h');
  const redis = { ...standaloneRedis('', prefix, 6), cluster: { nodes: cluster.nodes } };
  pipeline = createPipeline([h], { redis }).pipeline;
  await pipeline.waitUntilReady();
  const receipts = Array.from({ length: 150 }, (_, i) => statusEnvelope(`spread-${i}`, 'Read'));
  const results = await pipeline.sink.submit([...receipts, ...receipts.slice(0, 30)]);
  const outcomes = await Promise.all(results.map(r => pipeline!.completions!.wait('ChatAppStatus', r.jobId)));
  assert.ok(outcomes.every(o => o === 'completed'));
  assert.equal(h.calls.length, 150);
  assert.equal(new Set(h.calls.map(c => c.key)).size, 150, 'no receipt handled twice');
  const tag = prefix.slice(1, -1);
  const perMaster = await Promise.all((await cluster.masterPorts()).map(port => keysOn(port, tag)));
  assert.equal(perMaster.length, 3);
  for (const n of perMaster) assert.ok(n > 0, `keys per master: ${perMaster.join(', ')}`);
});
