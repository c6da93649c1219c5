import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { displayPath } from './files.js';
import type { RedisConfig } from './types.js';

/** Where each key was set (a file, an environment variable, the command line); unset keys are absent. */
type Sources = ReadonlyMap<string, string>;

const FORMS = ['redis.url', 'redis.cluster.nodes', 'redis.sentinel.nodes'] as const;

function fail(sources: Sources, key: string, message: string): never {
  throw new ConfigError(message, sources.get(key), key);
}

function from(sources: Sources, key: string): string {
  const source = sources.get(key);
  return source ? `${key} (${source})` : key;
}

/** The connection forms set: redis.url counts only when something set it, its default does not. */
function formsSet(redis: RedisConfig, sources: Sources): string[] {
  const set = {
    'redis.url': sources.has('redis.url'),
    'redis.cluster.nodes': redis.cluster.nodes.length > 0,
    'redis.sentinel.nodes': redis.sentinel.nodes.length > 0,
  };
  return FORMS.filter(key => set[key]);
}

function checkForms(redis: RedisConfig, sources: Sources): void {
  const set = formsSet(redis, sources);
  if (set.length > 1) {
    const [first = '', second = ''] = set;
    fail(
      sources,
      second,
      `selects a second Redis topology: ${from(sources, first)} is set too; set only one of ${FORMS.join(', ')}`,
    );
  }
  const { sentinel } = redis;
  if (sentinel.nodes.length > 0 && !sentinel.name) {
    fail(
      sources,
      'redis.sentinel.name',
      'is required with redis.sentinel.nodes: the master name the sentinels monitor',
    );
  }
  if (sentinel.name && sentinel.nodes.length === 0) {
    fail(
      sources,
      'redis.sentinel.name',
      'is set without redis.sentinel.nodes (CAMS_REDIS_SENTINELS): list the sentinels too',
    );
  }
  if (sentinel.password && sentinel.nodes.length === 0) {
    fail(sources, 'redis.sentinel.password', 'is set without redis.sentinel.nodes (CAMS_REDIS_SENTINELS)');
  }
}

/** A user or password may come from the URL or from its own key, not both: one would silently win. */
function checkCredentials(redis: RedisConfig, sources: Sources): void {
  if (redis.cluster.nodes.length > 0 || redis.sentinel.nodes.length > 0) return;
  const url = new URL(redis.url);
  if (url.username && redis.username) {
    fail(sources, 'redis.username', `is set and redis.url carries a user too; set it in one place`);
  }
  if (url.password && redis.password) {
    fail(sources, 'redis.password', `is set and redis.url carries a password too; set it in one place`);
  }
}

function checkTls(redis: RedisConfig, sources: Sources, configDir: string, cwd: string): void {
  const standalone = redis.cluster.nodes.length === 0 && redis.sentinel.nodes.length === 0;
  const tlsUrl = new URL(redis.url).protocol === 'rediss:';
  if (standalone && redis.tls.enabled && !tlsUrl) {
    fail(
      sources,
      'redis.tls.enabled',
      'applies to redis.cluster.nodes and redis.sentinel.nodes; for redis.url, use a rediss:// URL',
    );
  }
  const on = standalone ? tlsUrl : redis.tls.enabled;
  const { caPath, servername, insecureSkipVerify } = redis.tls;
  const tuned = [
    ['redis.tls.caPath', caPath !== ''],
    ['redis.tls.servername', servername !== ''],
    ['redis.tls.insecureSkipVerify', insecureSkipVerify],
  ] as const;
  for (const [key, set] of tuned) {
    if (set && !on) {
      fail(
        sources,
        key,
        standalone
          ? 'needs TLS: use a rediss:// URL in redis.url'
          : 'needs TLS: set redis.tls.enabled (CAMS_REDIS_TLS) to true',
      );
    }
  }
  if (caPath && insecureSkipVerify) {
    fail(
      sources,
      'redis.tls.insecureSkipVerify',
      'is set with redis.tls.caPath: verify with the CA, or skip verifying, not both',
    );
  }
  if (caPath && !existsSync(resolve(configDir, caPath))) {
    fail(sources, 'redis.tls.caPath', `file not found: ${displayPath(cwd, resolve(configDir, caPath))}`);
  }
}

/** The checks of the `redis` section that involve more than one key. Each error names the key at fault. */
export function checkRedisRelations(
  redis: RedisConfig,
  sources: Sources,
  configDir: string,
  cwd: string,
): void {
  checkForms(redis, sources);
  checkCredentials(redis, sources);
  checkTls(redis, sources, configDir, cwd);
  if (redis.previousPartitions === redis.partitions) {
    fail(
      sources,
      'redis.previousPartitions',
      `equals redis.partitions (${redis.partitions}): set it only while changing the number, to the old one`,
    );
  }
}
