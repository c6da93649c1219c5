import { test } from 'node:test';
import { PrivateRedisCluster } from '../../src/local/private-cluster.js';
import { streamThroughFailover } from './helpers.js';

test('Redis Cluster: the master holding the queues is killed (kill -9) mid-stream and its replica takes over; no receipt is lost', async t => {
  const cluster = await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 1 });
  try {
    await streamThroughFailover(t, { cluster: { nodes: cluster.nodes } }, async rig => {
      const killed = await cluster.killMasterOf(rig.config.redis.prefix);
      return `killed master :${killed.port}; its replica took over in ${killed.takeoverMs} ms`;
    });
  } finally {
    await cluster.destroy();
  }
});
