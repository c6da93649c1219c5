import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/types.js';
import { nodeOptions, parseHostPort, redisForm, sentinelOptions } from './options.js';
import { delay } from '../util/async.js';

/** A connection to Redis in any of its forms: one node (standalone or found through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Reconnect attempts back off to once a second, no slower: pipelines resume within about a second of Redis
 * returning, and a second per connection is cheap for a Redis that is down.
 */
export function reconnectDelayMs(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 4), 1000);
}

/**
 * Producer connections fail fast while Redis is away (no offline queue), so a receipt is never
 * acknowledged to SMQ or to an HTTP caller on the strength of a write that has not happened.
 */
const PRODUCER: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 5000,
  retryStrategy: reconnectDelayMs,
};

/** Blocking connections for BullMQ workers and stream readers: they must retry forever (BullMQ requires it). */
const BLOCKING: RedisOptions = {
  maxRetriesPerRequest: null,
  enableReadyCheck: true,
  retryStrategy: reconnectDelayMs,
};

/** A writer reaching a demoted master (a failover it has not seen yet) reconnects, and finds the new one. */
function reconnectOnReadOnly(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

function connect(config: RedisConfig, role: RedisOptions, extra: RedisOptions): RedisClient {
  const node = { ...nodeOptions(config), ...role, ...extra };
  switch (redisForm(config)) {
    case 'cluster':
      return new Cluster(config.cluster.nodes.map(parseHostPort), clusterOptions(node));
    case 'sentinel':
      return new Redis({ ...sentinelOptions(config), reconnectOnError: reconnectOnReadOnly, ...node });
    default:
      return new Redis(config.url, node);
  }
}

/**
 * BullMQ's cluster settings: the per-node options (credentials, TLS, `maxRetriesPerRequest`) go in
 * `redisOptions`; the cluster itself reconnects and retries redirections and failovers. Reads go to masters,
 * which hold the queues' state.
 */
function clusterOptions(node: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, enableReadyCheck, ...perNode } = node;
  return {
    redisOptions: perNode,
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: enableReadyCheck ?? true,
    clusterRetryStrategy: retryStrategy ?? reconnectDelayMs,
    scaleReads: 'master',
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
  };
}

/** A connection for queue writes and state checks, failing fast while Redis is away. */
export function producerConnection(config: RedisConfig, extra: RedisOptions = {}): RedisClient {
  return connect(config, PRODUCER, extra);
}

/** A connection for BullMQ workers and blocking reads, retrying forever. */
export function blockingConnection(config: RedisConfig, extra: RedisOptions = {}): RedisClient {
  return connect(config, BLOCKING, extra);
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** Quits gracefully, or disconnects when Redis is unreachable. */
export async function closeConnection(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    // A QUIT cut short by the disconnect below rejects later: that is expected, not unhandled.
    const quitting = client.quit().catch(() => undefined);
    await Promise.race([quitting, delay(1000)]);
  }
  client.disconnect();
}
