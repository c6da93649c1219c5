import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import { maskUrlPassword } from '../config/raw-values.js';
import type { RedisConfig } from '../config/types.js';

/** Which of the three connection forms a configuration selects. */
export type RedisForm = 'standalone' | 'cluster' | 'sentinel';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function redisForm(config: RedisConfig): RedisForm {
  if (config.cluster.nodes.length > 0) return 'cluster';
  if (config.sentinel.nodes.length > 0) return 'sentinel';
  return 'standalone';
}

/** `host:port`, or `[v6 address]:port` (validated by the configuration loader). */
export function parseHostPort(entry: string): HostPort {
  const at = entry.lastIndexOf(':');
  return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(entry.slice(at + 1)) };
}

/** Options for `tls.connect`, or undefined when this configuration does not use TLS. */
export function tlsOptions(config: RedisConfig): ConnectionOptions | undefined {
  const on =
    redisForm(config) === 'standalone' ? new URL(config.url).protocol === 'rediss:' : config.tls.enabled;
  if (!on) return undefined;
  const { caPath, servername, insecureSkipVerify } = config.tls;
  return {
    ...(caPath ? { ca: readFileSync(caPath) } : {}),
    ...(servername ? { servername } : {}),
    ...(insecureSkipVerify ? { rejectUnauthorized: false } : {}),
  };
}

/** What every connection to a data node carries, whatever the form: credentials and TLS. */
export function nodeOptions(config: RedisConfig): RedisOptions {
  const tls = tlsOptions(config);
  return {
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** The options that make ioredis find the master through the sentinels (credentials and TLS for them too). */
export function sentinelOptions(config: RedisConfig): RedisOptions {
  const tls = tlsOptions(config);
  return {
    sentinels: config.sentinel.nodes.map(parseHostPort),
    name: config.sentinel.name,
    role: 'master',
    ...(config.sentinel.password ? { sentinelPassword: config.sentinel.password } : {}),
    ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
    // Reconnect as soon as the sentinels announce a new master, not when the old one times out.
    failoverDetector: true,
  };
}

/** Where Redis is, for logs and messages: never a password. */
export function describeTarget(config: RedisConfig): string {
  switch (redisForm(config)) {
    case 'cluster':
      return `Redis Cluster at ${config.cluster.nodes.join(',')}`;
    case 'sentinel':
      return `Redis Sentinel master "${config.sentinel.name}" via ${config.sentinel.nodes.join(',')}`;
    default:
      return `Redis at ${maskUrlPassword(config.url)}`;
  }
}

/** A standalone configuration for one URL, the other keys at their defaults (tests, benchmarks, the demo). */
export function standaloneRedis(url: string, prefix = '{cams}', partitions = 1): RedisConfig {
  return {
    url,
    prefix,
    partitions,
    previousPartitions: 0,
    cluster: { nodes: [] },
    sentinel: { nodes: [], name: '', password: '' },
    username: '',
    password: '',
    tls: { enabled: false, caPath: '', servername: '', insecureSkipVerify: false },
  };
}
