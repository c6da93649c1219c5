import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Handler } from '../../src/contracts/handler.js';
import { SerialLeases, wakeJob } from '../../src/pipeline/serialize.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, envelope } from './harness.js';

const WORKER = fileURLToPath(new URL('../fixtures/serial-worker.ts', import.meta.url));

function startWorker(prefix: string, listKey: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, redisUrl(), prefix, listKey], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`worker exited early (${code})`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Run {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly pid: number;
}

/** 400 messages, each with Sent, Delivered, Read and (one in four) Failed, shuffled within groups of 16. */
function statusEnvelopes(tag: string) {
  const out = [];
  for (let m = 0; m < 400; m += 1) {
    const statuses = m % 4 === 0 ? ['Sent', 'Delivered', 'Read', 'Failed'] : ['Sent', 'Delivered', 'Read'];
    for (const Status of statuses) out.push(envelope('ChatAppStatus', { MessageId: `${tag}-${m}`, Status }));
  }
  for (let i = 0; i < out.length; i += 16) {
    const group = out.slice(i, i + 16).sort(() => Math.random() - 0.5);
    out.splice(i, group.length, ...group);
  }
  return out;
}

test('serializeBy over 256 slots in 2 processes: no two runs of one key overlap', async () => {
  const prefix = uniquePrefix('serial');
  const listKey = `${prefix}:runs`;
  const redis = new Redis(redisUrl());
  const workers = await Promise.all([startWorker(prefix, listKey), startWorker(prefix, listKey)]);
  const { pipeline: producer, shutdown } = createPipeline([], { prefix, workers: false });
  try {
    await producer.waitUntilReady();
    const envelopes = statusEnvelopes('m');
    await producer.sink.submit(envelopes);
    await eventually(
      async () => (await redis.llen(listKey)) >= envelopes.length,
      90_000,
      `${envelopes.length} runs recorded`,
    );
    const runs = (await redis.lrange(listKey, 0, -1)).map(line => JSON.parse(line) as Run);
    assert.equal(runs.length, envelopes.length, 'each receipt ran once');
    assert.equal(new Set(runs.map(r => r.pid)).size, 2, 'both processes ran receipts');
    const byKey = new Map<string, Run[]>();
    for (const r of runs) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i += 1) {
        const [prev, next] = [list[i - 1] as Run, list[i] as Run];
        assert.ok(next.start >= prev.end, `${key}: a run started at ${next.start} before ${prev.end}`);
      }
    }
    assert.ok(maxConcurrent(runs) > 1, 'runs of different keys did run at the same time');
  } finally {
    shutdown.abort();
    await Promise.all(workers.map(stopWorker));
    await producer.close();
    redis.disconnect();
  }
});

/** The most runs in progress at one instant. */
function maxConcurrent(runs: readonly Run[]): number {
  const edges = runs.flatMap(r => [
    [r.start, 1],
    [r.end, -1],
  ]);
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step as number;
    most = Math.max(most, now);
  }
  return most;
}

test('receipts waiting on one key run in rank order (Sent, Delivered, Read), whatever their arrival', async () => {
  const prefix = uniquePrefix('rank');
  const order: string[] = [];
  const ranked: Handler<'ChatAppStatus'> = {
    name: 'ranked',
    messageTypes: ['ChatAppStatus'],
    serializeBy: receipt => receipt.MessageId,
    handle: receipt => void order.push(receipt.Status),
  };
  const { pipeline, shutdown } = createPipeline([ranked as unknown as Handler], { prefix });
  const redis = new Redis(redisUrl());
  try {
    await pipeline.waitUntilReady();
    const lease = `${prefix}:serial:ranked:r1`;
    // Someone else holds the key while the three arrive, in reverse order.
    await redis.set(lease, 'elsewhere', 'PX', 60_000);
    for (const Status of ['Read', 'Delivered', 'Sent']) {
      await pipeline.sink.submit([envelope('ChatAppStatus', { MessageId: 'r1', Status })]);
    }
    await eventually(async () => (await redis.zcard(`${lease}:q`)) === 3, 10_000, 'three waiters');
    assert.deepEqual(order, [], 'none ran while the key was held');
    const leases = new SerialLeases(redis, prefix, (type, id) => wakeJob(pipeline.queues, type, id));
    await leases.leave([{ lease, waiters: `${lease}:q`, member: 'elsewhere' }]);
    await eventually(() => order.length === 3, 10_000, 'all three ran');
    assert.deepEqual(order, ['Sent', 'Delivered', 'Read']);
    // The last run leaves the key after its handler returns: wait for it, not just for the handler.
    await eventually(
      async () => (await redis.exists(lease, `${lease}:q`)) === 0,
      10_000,
      'nothing left behind for the key',
    );
  } finally {
    shutdown.abort();
    await pipeline.close();
    redis.disconnect();
  }
});
