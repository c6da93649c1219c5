import { nodeCommand, until } from './private-cluster.js';
import { PrivateRedisServer } from './private-redis.js';

/**
 * A throwaway Sentinel set-up on loopback ports: one master, `replicas` replicas and `sentinels` Sentinel
 * processes (`redis-server --sentinel`) with a quorum of two, keeping nothing on disk. Short timeouts make a
 * failover happen within a few seconds of the master's death.
 */
export class PrivateRedisSentinel {
  private constructor(
    readonly name: string,
    private readonly data: PrivateRedisServer[],
    private readonly watchers: PrivateRedisServer[],
  ) {}

  static async start({
    name = 'cams',
    replicas = 1,
    sentinels = 3,
    downAfterMs = 1000,
  }: {
    name?: string;
    replicas?: number;
    sentinels?: number;
    downAfterMs?: number;
  } = {}): Promise<PrivateRedisSentinel> {
    const data: PrivateRedisServer[] = [];
    const watchers: PrivateRedisServer[] = [];
    const setup = new PrivateRedisSentinel(name, data, watchers);
    try {
      const master = await PrivateRedisServer.start();
      data.push(master);
      for (let i = 0; i < replicas; i += 1) {
        data.push(
          await PrivateRedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] }),
        );
      }
      const configFile = [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${Math.max(3000, 3 * downAfterMs)}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n');
      for (let i = 0; i < sentinels; i += 1) {
        watchers.push(await PrivateRedisServer.start({ configFile, sentinel: true }));
      }
      await setup.waitSettled(replicas, sentinels - 1, 30_000);
      return setup;
    } catch (err) {
      await setup.destroy();
      throw err;
    }
  }

  /** The sentinels as `127.0.0.1:<port>`, the form redis.sentinel.nodes takes. */
  get sentinels(): string[] {
    return this.watchers.map(s => s.address);
  }

  /** Every sentinel knows the replicas and the other sentinels: only then can they agree on a failover. */
  private async waitSettled(replicas: number, peers: number, timeoutMs: number): Promise<void> {
    await until(
      async () => {
        for (const sentinel of this.watchers) {
          const fields = (await nodeCommand(sentinel.port, 'SENTINEL', 'MASTER', this.name)) as string[];
          const field = (name: string) => Number(fields[fields.indexOf(name) + 1]);
          if (field('num-slaves') < replicas || field('num-other-sentinels') < peers) return false;
        }
        const link = String(await nodeCommand(this.data[1]?.port ?? 0, 'INFO', 'replication'));
        return replicas === 0 || link.includes('master_link_status:up');
      },
      timeoutMs,
      'the sentinels to discover the replicas and each other',
    );
  }

  /** The master's port as the first live sentinel reports it. */
  async masterPort(): Promise<number> {
    for (const sentinel of this.watchers) {
      try {
        const addr = (await nodeCommand(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', this.name)) as
          string[] | null;
        if (addr) return Number(addr[1]);
      } catch {
        // try the next sentinel
      }
    }
    throw new Error('no sentinel answered');
  }

  /**
   * `kill -9` of the current master, then waits until the sentinels have promoted a replica and it takes
   * writes. Returns the killed port and how long the promotion took.
   */
  async killMaster(timeoutMs = 40_000): Promise<{ port: number; promotionMs: number }> {
    const port = await this.masterPort();
    const server = this.data.find(s => s.port === port);
    if (!server) throw new Error(`no data node on port ${port}`);
    const killedAt = Date.now();
    await server.stop();
    await until(
      async () => {
        const next = await this.masterPort();
        if (next === port) return false;
        const role = String(await nodeCommand(next, 'INFO', 'replication'));
        return role.includes('role:master');
      },
      timeoutMs,
      `the sentinels to promote a replica of the master on port ${port}`,
    );
    return { port, promotionMs: Date.now() - killedAt };
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.watchers, ...this.data].map(s => s.destroy()));
  }
}
