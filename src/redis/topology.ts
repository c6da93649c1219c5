import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { nodeOptions, parseHostPort, redisForm, tlsOptions } from './options.js';
import calculateSlot from 'cluster-key-slot';
import { partitionPrefix } from './partitions.js';
import { sleep } from '../util/async.js';
import { errorMessage } from '../util/error-message.js';

/** What was found at the configured address. */
export type Topology =
  | { readonly kind: 'standalone'; readonly address: string; readonly version: string }
  | {
      readonly kind: 'sentinel';
      readonly name: string;
      /** The master the sentinels name now. */
      readonly master: string;
      readonly sentinelsAnswering: number;
      readonly sentinels: number;
    }
  | {
      readonly kind: 'cluster';
      /** Masters serving slots (`cluster_size`). */
      readonly masters: number;
      /** `ok`, or `fail` while slots are uncovered (a master down and no replica promoted yet). */
      readonly state: string;
      /** The slot of the key prefix's hash tag, and the master serving it. */
      readonly prefixSlot: number;
      readonly prefixMaster?: string;
      /** With redis.partitions > 1: how many partitions each master serves. */
      readonly partitionsByMaster?: Readonly<Record<string, number>>;
    };

/** One short-lived connection that gives up at the first error: a probe, not a client. */
async function probe<T>(
  target: string | RedisOptions,
  options: RedisOptions,
  timeoutMs: number,
  run: (client: Redis) => Promise<T>,
): Promise<T> {
  const settings: RedisOptions = {
    ...options,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  };
  const client =
    typeof target === 'string' ? new Redis(target, settings) : new Redis({ ...target, ...settings });
  // A failed connect rejects with "Connection is closed."; the reason (TLS, auth) came as an 'error' event.
  let reason: Error | undefined;
  client.on('error', (err: Error) => (reason = err));
  try {
    await client.connect();
    return await run(client);
  } catch (err) {
    throw reason && /Connection is closed/.test(errorMessage(err)) ? reason : err;
  } finally {
    client.disconnect();
  }
}

/** `INFO` as a map of its `field:value` lines. */
async function info(client: Redis): Promise<Map<string, string>> {
  const text = await client.info();
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

async function standalone(config: RedisConfig, timeoutMs: number): Promise<Topology> {
  const fields = await probe(config.url, nodeOptions(config), timeoutMs, info);
  const useInstead = 'and leave redis.url unset';
  if (fields.get('redis_mode') === 'sentinel') {
    throw new ConfigError(
      `points at a Redis Sentinel, not a data node: set redis.sentinel.nodes (CAMS_REDIS_SENTINELS) and redis.sentinel.name (CAMS_REDIS_SENTINEL_NAME) ${useInstead}`,
      undefined,
      'redis.url',
    );
  }
  if (fields.get('cluster_enabled') === '1') {
    throw new ConfigError(
      `points at a Redis Cluster node (cluster_enabled:1), which a single-node client cannot use: set redis.cluster.nodes (CAMS_REDIS_CLUSTER_NODES) to the cluster's nodes ${useInstead}`,
      undefined,
      'redis.url',
    );
  }
  if (fields.get('role') === 'slave') {
    const master = `${fields.get('master_host') ?? '?'}:${fields.get('master_port') ?? '?'}`;
    throw new ConfigError(
      `points at a read-only replica (of ${master}): point it at the master, or use Sentinel (redis.sentinel.nodes) to follow failovers`,
      undefined,
      'redis.url',
    );
  }
  const url = new URL(config.url);
  return {
    kind: 'standalone',
    address: `${url.hostname}:${url.port || '6379'}`,
    version: fields.get('redis_version') ?? 'unknown',
  };
}

/** The options for a connection to one sentinel: its own password, and TLS when the data nodes use it. */
function sentinelNodeOptions(config: RedisConfig): RedisOptions {
  const tls = tlsOptions(config);
  return {
    ...(config.sentinel.password ? { password: config.sentinel.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

interface SentinelReply {
  readonly master: string | null;
  /** The master names it monitors, when it does not know the one asked for. */
  readonly known: readonly string[];
}
type SentinelAnswer = SentinelReply | { readonly error: string };

async function askSentinel(config: RedisConfig, node: string, timeoutMs: number): Promise<SentinelAnswer> {
  try {
    return await probe({ ...parseHostPort(node), ...sentinelNodeOptions(config) }, {}, timeoutMs, async c => {
      const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', config.sentinel.name)) as
        string[] | null;
      if (addr) return { master: `${addr[0]}:${addr[1]}`, known: [] };
      const masters = (await c.call('SENTINEL', 'masters')) as string[][];
      return { master: null, known: masters.map(fields => fields[fields.indexOf('name') + 1] ?? '?') };
    });
  } catch (err) {
    if (/unknown command|unknown subcommand/i.test(errorMessage(err))) {
      throw new ConfigError(
        `${node} is not a Redis Sentinel (it answered: ${errorMessage(err)}); list the sentinels, not the data nodes`,
        undefined,
        'redis.sentinel.nodes',
      );
    }
    return { error: `${node}: ${errorMessage(err)}` };
  }
}

async function sentinel(config: RedisConfig, timeoutMs: number): Promise<Topology> {
  const { nodes, name } = config.sentinel;
  const answers = await Promise.all(nodes.map(node => askSentinel(config, node, timeoutMs)));
  const reached = answers.filter((a): a is SentinelReply => !('error' in a));
  if (reached.length === 0) {
    throw new Error(`no sentinel answered: ${answers.map(a => ('error' in a ? a.error : '')).join('; ')}`);
  }
  const master = reached.find(a => a.master)?.master;
  if (!master) {
    const known = [...new Set(reached.flatMap(a => a.known))];
    throw new ConfigError(
      `no sentinel monitors a master named "${name}" (they monitor: ${known.join(', ') || 'none'})`,
      undefined,
      'redis.sentinel.name',
    );
  }
  return { kind: 'sentinel', name, master, sentinelsAnswering: reached.length, sentinels: nodes.length };
}

async function clusterNode(config: RedisConfig, node: string, timeoutMs: number): Promise<Topology> {
  return probe({ ...parseHostPort(node), ...nodeOptions(config) }, {}, timeoutMs, async c => {
    const fields = await info(c);
    if (fields.get('cluster_enabled') !== '1') {
      const what =
        fields.get('redis_mode') === 'sentinel'
          ? 'a Redis Sentinel, not a cluster node: list the cluster nodes, or use redis.sentinel.nodes'
          : 'not a Redis Cluster node (cluster_enabled:0): for one node, set redis.url instead';
      throw new ConfigError(`${node} is ${what}`, undefined, 'redis.cluster.nodes');
    }
    const clusterInfo = new Map(
      String(await c.call('CLUSTER', 'INFO'))
        .split(/\r?\n/)
        .map(line => line.split(':').map(s => s.trim()) as [string, string]),
    );
    const slot = calculateSlot(config.prefix);
    const ranges = (await c.call('CLUSTER', 'SLOTS')) as SlotRange[];
    const owner = ownerOf(ranges, slot);
    return {
      kind: 'cluster',
      masters: Number(clusterInfo.get('cluster_size') ?? 0),
      state: clusterInfo.get('cluster_state') ?? 'unknown',
      prefixSlot: slot,
      ...(owner ? { prefixMaster: owner } : {}),
      ...(config.partitions > 1 ? { partitionsByMaster: partitionsByMaster(config, ranges) } : {}),
    };
  });
}

async function cluster(config: RedisConfig, timeoutMs: number): Promise<Topology> {
  const errors: string[] = [];
  for (const node of config.cluster.nodes) {
    try {
      return await clusterNode(config, node, timeoutMs);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      errors.push(`${node}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`no cluster node answered: ${errors.join('; ')}`);
}

/**
 * Connects the way the configuration says and reports what is there. Rejects with a ConfigError, naming the
 * key to change, when the address holds another topology (a cluster node in redis.url, a master name the
 * sentinels do not know…), and with a plain Error when nothing answers.
 */
export function inspectTopology(config: RedisConfig, timeoutMs = 5000): Promise<Topology> {
  switch (redisForm(config)) {
    case 'cluster':
      return cluster(config, timeoutMs);
    case 'sentinel':
      return sentinel(config, timeoutMs);
    default:
      return standalone(config, timeoutMs);
  }
}

/**
 * Inspects until Redis answers (it may be down at start), every second; `onUnreachable` hears each failure.
 * Rejects at once with the ConfigError of a mismatch, or with the signal's reason when it aborts.
 */
export async function waitForTopology(
  config: RedisConfig,
  opts: { signal?: AbortSignal; onUnreachable?: (err: unknown) => void } = {},
): Promise<Topology> {
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      return await inspectTopology(config);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      opts.onUnreachable?.(err);
    }
    await sleep(1000, opts.signal);
  }
}

type SlotRange = [number, number, [string, number]];

function ownerOf(ranges: readonly SlotRange[], slot: number): string | undefined {
  const node = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  return node ? `${node[0]}:${node[1]}` : undefined;
}

/** Which master serves each partition's hash tag, counted per master. */
function partitionsByMaster(config: RedisConfig, ranges: readonly SlotRange[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let p = 0; p < config.partitions; p++) {
    const owner = ownerOf(ranges, calculateSlot(partitionPrefix(config.prefix, p, config.partitions)));
    if (owner) counts[owner] = (counts[owner] ?? 0) + 1;
  }
  return counts;
}

/** `; 6 partitions: 2 on 10.0.0.1:7000, …`, or a warning that one master holds every key. */
function partitionsText(t: Extract<Topology, { kind: 'cluster' }>): string {
  const spread = t.partitionsByMaster;
  if (!spread) return '; 1 partition: every key on one master (set redis.partitions to spread them)';
  const total = Object.values(spread).reduce((a, b) => a + b, 0);
  const parts = Object.entries(spread).map(([master, n]) => `${n} on ${master}`);
  return `; ${total} partitions: ${parts.join(', ')}`;
}

/** One line for `check-config`, logs and `stats`. */
export function describeTopology(t: Topology): string {
  switch (t.kind) {
    case 'standalone':
      return `standalone ${t.address} (Redis ${t.version})`;
    case 'sentinel':
      return `sentinel: master "${t.name}" at ${t.master} (${t.sentinelsAnswering} of ${t.sentinels} sentinels answered)`;
    case 'cluster':
      return `cluster: ${t.masters} masters, state ${t.state}; prefix slot ${t.prefixSlot}${t.prefixMaster ? ` on ${t.prefixMaster}` : ''}${partitionsText(t)}`;
  }
}
