import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { PrivateRedisServer, freePort } from './private-redis.js';
import { sleep } from '../util/async.js';

/** Runs one command on the node at `port` over a short-lived connection. */
export async function nodeCommand(port: number, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const [name = '', ...rest] = args.map(String);
    return await client.call(name, ...rest);
  } finally {
    client.disconnect();
  }
}

/** Polls `predicate` every 100 ms until it holds, or throws `what` after `timeoutMs`. */
export async function until(
  predicate: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', code =>
      code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}: ${output}`)),
    );
  });
}

type SlotRange = [from: number, to: number, master: [host: string, port: number], ...replicas: unknown[]];

/**
 * A throwaway Redis Cluster on loopback ports: `masters` masters with `replicasPerMaster` replicas each, made
 * with `redis-cli --cluster create`, keeping nothing on disk. A short node timeout makes a replica take over
 * within a few seconds of its master's death.
 */
export class PrivateRedisCluster {
  private constructor(private readonly servers: PrivateRedisServer[]) {}

  static async start({
    masters = 3,
    replicasPerMaster = 1,
    nodeTimeoutMs = 1000,
  }: {
    masters?: number;
    replicasPerMaster?: number;
    nodeTimeoutMs?: number;
  } = {}): Promise<PrivateRedisCluster> {
    const servers: PrivateRedisServer[] = [];
    const cluster = new PrivateRedisCluster(servers);
    try {
      // One at a time: each takes a free port (and a free cluster bus port) before the next asks.
      for (let i = 0; i < masters * (1 + replicasPerMaster); i += 1) {
        servers.push(await PrivateRedisServer.start({ args: await clusterNodeArgs(nodeTimeoutMs) }));
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...cluster.nodes,
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ]);
      await cluster.waitHealthy(30_000);
      return cluster;
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  /** Every node as `127.0.0.1:<port>`, the form redis.cluster.nodes takes. */
  get nodes(): string[] {
    return this.servers.map(s => s.address);
  }

  private live(): PrivateRedisServer[] {
    return this.servers.filter(s => s.pid !== 0);
  }

  /** Every live node says `cluster_state:ok`, and every slot has a live master. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await until(
      async () => {
        for (const server of this.live()) {
          const info = String(await nodeCommand(server.port, 'CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok')) return false;
        }
        return true;
      },
      timeoutMs,
      'every cluster node to report cluster_state:ok',
    );
  }

  /** The port of the master serving `key`'s slot, as a live node sees it. */
  async masterPortOf(key: string): Promise<number> {
    const [server] = this.live();
    if (!server) throw new Error('no live cluster node');
    const slot = Number(await nodeCommand(server.port, 'CLUSTER', 'KEYSLOT', key));
    const ranges = (await nodeCommand(server.port, 'CLUSTER', 'SLOTS')) as SlotRange[];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return range[2][1];
  }

  /** The ports of the masters serving slots. */
  async masterPorts(): Promise<number[]> {
    const [server] = this.live();
    if (!server) return [];
    const ranges = (await nodeCommand(server.port, 'CLUSTER', 'SLOTS')) as SlotRange[];
    return [...new Set(ranges.map(range => range[2][1]))];
  }

  /**
   * `kill -9` of the master serving `key`, then waits until a replica serves its slots and the cluster is
   * healthy again. Returns the killed master's port and how long the takeover took.
   */
  async killMasterOf(key: string, timeoutMs = 30_000): Promise<{ port: number; takeoverMs: number }> {
    const port = await this.masterPortOf(key);
    const server = this.servers.find(s => s.port === port);
    if (!server) throw new Error(`no cluster node on port ${port}`);
    const killedAt = Date.now();
    await server.stop();
    await until(
      async () => (await this.masterPortOf(key)) !== port,
      timeoutMs,
      `a replica to take over from the master on port ${port}`,
    );
    await this.waitHealthy(timeoutMs);
    return { port, takeoverMs: Date.now() - killedAt };
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map(s => s.destroy()));
  }
}

/** redis-server options of one cluster node. */
async function clusterNodeArgs(nodeTimeoutMs: number): Promise<string[]> {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    '--cluster-port',
    String(await freePort()),
    // A replica may take over however long it was cut off: the tests kill masters on purpose.
    '--cluster-replica-validity-factor',
    '0',
  ];
}
