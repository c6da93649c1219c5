import { test } from 'node:test';
import { PrivateRedisSentinel } from '../../src/local/private-sentinel.js';
import { streamThroughFailover } from './helpers.js';

test('Redis Sentinel: the master is killed (kill -9) mid-stream and a replica promoted; no receipt is lost', async t => {
  const sentinel = await PrivateRedisSentinel.start({ replicas: 1, sentinels: 3 });
  try {
    await streamThroughFailover(
      t,
      { sentinel: { nodes: sentinel.sentinels, name: sentinel.name } },
      async () => {
        const killed = await sentinel.killMaster();
        return `killed master :${killed.port}; the sentinels promoted a replica in ${killed.promotionMs} ms`;
      },
    );
  } finally {
    await sentinel.destroy();
  }
});
