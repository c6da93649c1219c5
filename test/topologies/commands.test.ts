import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { createAdminServer } from '../../src/http/admin-routes.js';
import { createHealthChecker } from '../../src/observability/health.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { dlqCommand } from '../../src/cli/dlq.js';
import { statsCommand, type Stats } from '../../src/cli/stats.js';
import { PrivateRedisCluster } from '../../src/local/private-cluster.js';
import { PrivateRedisSentinel } from '../../src/local/private-sentinel.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { RedisConfig } from '../../src/config/types.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { standaloneRedis } from '../../src/redis/options.js';
import { uniquePrefix } from '../helpers/redis.js';
import { runCommand, tempDir } from '../ops/helpers.js';
import { createPipeline, statusEnvelope } from '../pipeline/harness.js';
import { writeConfigDir } from '../daemon/harness.js';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));

interface Target {
  readonly env: Record<string, string>;
  readonly pipeline: Pipeline;
}

/** Three receipts waiting and one dead letter, written through a pipeline of the topology under test. */
async function seed(env: Record<string, string>, redis: RedisConfig): Promise<Target> {
  const { pipeline } = createPipeline([], { redis, workers: false });
  await pipeline.waitUntilReady();
  await pipeline.sink.submit(['t-1', 't-2', 't-3'].map(id => statusEnvelope(id)));
  await pipeline.deadLetters.park({
    messageType: 'ChatAppAudit',
    source: 'smq',
    reason: 'decode',
    error: 'x',
    raw: '?',
  });
  return { env, pipeline };
}

describe('the commands on a Redis Cluster and on Sentinel', () => {
  let cluster: PrivateRedisCluster;
  let sentinel: PrivateRedisSentinel;
  let onCluster: Target;
  let onSentinel: Target;
  const cwd = tempDir();

  before(async () => {
    [cluster, sentinel] = await Promise.all([PrivateRedisCluster.start(), PrivateRedisSentinel.start()]);
    const clusterPrefix = uniquePrefix('cmd-cluster');
    const sentinelPrefix = uniquePrefix('cmd-sentinel');
    const base = standaloneRedis('redis://127.0.0.1:6379');
    onCluster = await seed(
      { CAMS_REDIS_CLUSTER_NODES: cluster.nodes.join(','), CAMS_REDIS_PREFIX: clusterPrefix },
      { ...base, prefix: clusterPrefix, cluster: { nodes: cluster.nodes } },
    );
    onSentinel = await seed(
      {
        CAMS_REDIS_SENTINELS: sentinel.sentinels.join(','),
        CAMS_REDIS_SENTINEL_NAME: sentinel.name,
        CAMS_REDIS_PREFIX: sentinelPrefix,
      },
      {
        ...base,
        prefix: sentinelPrefix,
        sentinel: { nodes: sentinel.sentinels, name: sentinel.name, password: '' },
      },
    );
  });
  after(async () => {
    await Promise.all([onCluster?.pipeline.close(), onSentinel?.pipeline.close()]);
    await Promise.all([cluster?.destroy(), sentinel?.destroy()]);
  });

  test('check-config connects and says what it found: the cluster and its masters', async () => {
    const text = await runCommand(checkConfigCommand, [], { cwd, env: onCluster.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^redis: cluster: 3 masters, state ok; prefix slot \d+ on 127\.0\.0\.1:\d+; 1 partition: every key on one master/m,
    );
    const json = await runCommand(checkConfigCommand, ['--json'], { cwd, env: onCluster.env });
    const out = JSON.parse(json.stdout) as { redis: { topology: { kind: string; masters: number } } };
    assert.deepEqual([out.redis.topology.kind, out.redis.topology.masters], ['cluster', 3]);
  });

  test('check-config on Sentinel names the master the sentinels report', async () => {
    const run = await runCommand(checkConfigCommand, [], { cwd, env: onSentinel.env });
    assert.equal(run.code, 0, run.stderr);
    const port = await sentinel.masterPort();
    assert.match(
      run.stdout,
      new RegExp(
        `^redis: sentinel: master "cams" at 127\\.0\\.0\\.1:${port} \\(3 of 3 sentinels answered\\)$`,
        'm',
      ),
    );
  });

  test('check-config fails on a topology other than the configured one, naming the key to set', async () => {
    const asUrl = await runCommand(checkConfigCommand, [], {
      cwd,
      env: { REDIS_URL: `redis://${cluster.nodes[0]}` },
    });
    assert.equal(asUrl.code, 1);
    assert.match(
      asUrl.stderr,
      /invalid Redis topology: redis\.url: points at a Redis Cluster node \(cluster_enabled:1\).*set redis\.cluster\.nodes \(CAMS_REDIS_CLUSTER_NODES\)/,
    );
    const wrongName = await runCommand(checkConfigCommand, ['--json'], {
      cwd,
      env: { ...onSentinel.env, CAMS_REDIS_SENTINEL_NAME: 'nope' },
    });
    assert.equal(wrongName.code, 1);
    const out = JSON.parse(wrongName.stdout) as { ok: boolean; error: { key: string; message: string } };
    assert.equal(out.error.key, 'redis.sentinel.name');
    assert.match(out.error.message, /no sentinel monitors a master named "nope" \(they monitor: cams\)/);
    const sentinelsAsCluster = await runCommand(checkConfigCommand, [], {
      cwd,
      env: { CAMS_REDIS_CLUSTER_NODES: sentinel.sentinels[0] ?? '' },
    });
    assert.equal(sentinelsAsCluster.code, 1);
    assert.match(
      sentinelsAsCluster.stderr,
      /redis\.cluster\.nodes: 127\.0\.0\.1:\d+ is a Redis Sentinel, not a cluster node/,
    );
  });

  for (const [name, target] of [
    ['Cluster', () => onCluster],
    ['Sentinel', () => onSentinel],
  ] as const) {
    test(`stats and dlq read the queues through ${name}`, async () => {
      const run = await runCommand(statsCommand, ['--json'], { cwd, env: target().env });
      assert.equal(run.code, 0, run.stderr);
      const stats = JSON.parse(run.stdout) as Stats;
      assert.equal(stats.redis.available, true);
      assert.match(
        stats.redis.topology ?? '',
        name === 'Cluster' ? /^cluster: 3 masters/ : /^sentinel: master "cams"/,
      );
      assert.equal(stats.bullmq.ChatAppStatus?.waiting, 3);
      assert.equal(stats.deadLetters, 1);
      const dlq = await runCommand(dlqCommand, ['list', '--json'], { cwd, env: target().env });
      assert.equal(dlq.code, 0, dlq.stderr);
      assert.equal((JSON.parse(dlq.stdout) as { count: number }).count, 1);
    });

    test(`the dashboard lists the queues and their jobs through ${name}`, async () => {
      const { pipeline } = target();
      const server = await createAdminServer({
        host: '127.0.0.1',
        port: 0,
        logger: silentLogger(),
        registry: new Metrics({ defaultMetrics: false }).registry,
        health: createHealthChecker({ pingRedis: () => pipeline.redis.ping() }),
        dashboard: {
          enabled: true,
          queues: pipeline.queues.all(),
          username: 'ops',
          password: 'pw-0123',
          readOnly: true,
        },
      });
      try {
        const { url } = await server.listen();
        const authorization = 'Basic ' + Buffer.from('ops:pw-0123').toString('base64');
        const res = await fetch(`${url}/admin/api/queues`, { headers: { authorization } });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
        assert.deepEqual(body.queues.map(q => q.name).sort(), [...MESSAGE_TYPES].sort());
        assert.equal(body.queues.find(q => q.name === 'ChatAppStatus')?.counts['waiting'], 3);
        assert.equal((await fetch(`${url}/readyz`)).status, 200);
      } finally {
        await server.close();
      }
    });
  }

  for (const [what, redis, expected] of [
    [
      'redis.url at a cluster node',
      () => ({ url: `redis://${cluster.nodes[0]}` }),
      /startup failed \(CAMS_ERR_CONFIG\): redis\.url: points at a Redis Cluster node.*redis\.cluster\.nodes/,
    ],
    [
      'a master name the sentinels do not know',
      () => ({ sentinel: { nodes: sentinel.sentinels, name: 'nope' } }),
      /startup failed \(CAMS_ERR_CONFIG\): redis\.sentinel\.name: no sentinel monitors a master named \\"nope\\"/,
    ],
  ] as const) {
    test(`start with ${what} fails fast with one clear message, not a log flood`, async () => {
      const emulator = await startEmulator({ port: 0 });
      const configDir = writeConfigDir(emulator, { redis: redis(), prefix: '{cams}' });
      const child = spawn(process.execPath, [BIN, 'start', '--config', configDir], {
        env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      const startedAt = Date.now();
      try {
        const code = await new Promise<number | null>(resolve => child.once('exit', c => resolve(c)));
        const text = output.join('');
        assert.equal(code, 1, text);
        assert.ok(Date.now() - startedAt < 20_000, 'exits within seconds');
        assert.match(text, expected);
        // Credentials resolved, startup failed, stopping, stopped: nothing fetched from the wrong place.
        const lines = text.trim().split('\n');
        assert.ok(lines.length <= 5, `${lines.length} log lines:\n${text}`);
      } finally {
        child.kill('SIGKILL');
        await emulator.close();
      }
    });
  }
});
