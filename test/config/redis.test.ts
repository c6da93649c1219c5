import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { redactConfig } from '../../src/config/redact-config.js';
import { configWarnings } from '../../src/config/warnings.js';
import { ConfigError } from '../../src/errors.js';
import { describeTarget, redisForm } from '../../src/redis/options.js';
import { tempDir } from './fixtures.js';

function load(files: Record<string, object | string>, env: Record<string, string> = {}) {
  const cwd = tempDir(files);
  return loadConfig({ cwd, env });
}

function rejects(
  files: Record<string, object | string>,
  env: Record<string, string>,
  expected: { file?: string; key: string; message: RegExp },
): void {
  assert.throws(
    () => load(files, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.file, expected.file);
      assert.equal(err.key, expected.key);
      assert.match(err.message, expected.message);
      return true;
    },
  );
}

describe('the three Redis connection forms', () => {
  test('by default, one standalone node at redis.url', () => {
    const cfg = load({});
    assert.equal(redisForm(cfg.redis), 'standalone');
    assert.equal(describeTarget(cfg.redis), 'Redis at redis://127.0.0.1:6379');
  });

  test('CAMS_REDIS_CLUSTER_NODES, comma-separated, selects Redis Cluster', () => {
    const cfg = load({}, { CAMS_REDIS_CLUSTER_NODES: '10.0.0.21:6379, 10.0.0.22:6379,,[fd00::23]:6380' });
    assert.deepEqual(cfg.redis.cluster.nodes, ['10.0.0.21:6379', '10.0.0.22:6379', '[fd00::23]:6380']);
    assert.equal(redisForm(cfg.redis), 'cluster');
  });

  test('CAMS_REDIS_SENTINELS with CAMS_REDIS_SENTINEL_NAME selects Sentinel; a file may say the same', () => {
    const env = load({}, { CAMS_REDIS_SENTINELS: 's1:26379,s2:26379', CAMS_REDIS_SENTINEL_NAME: 'cams' });
    assert.deepEqual(env.redis.sentinel, { nodes: ['s1:26379', 's2:26379'], name: 'cams', password: '' });
    assert.equal(describeTarget(env.redis), 'Redis Sentinel master "cams" via s1:26379,s2:26379');
    const file = load({
      'config/default.json': { redis: { sentinel: { nodes: ['s1:26379'], name: 'cams' } } },
    });
    assert.equal(redisForm(file.redis), 'sentinel');
  });

  test('two forms at once are refused, naming both keys and where each was set', () => {
    rejects(
      { 'config/default.json': { redis: { url: 'redis://10.0.0.5:6379' } } },
      { CAMS_REDIS_CLUSTER_NODES: '10.0.0.21:6379' },
      {
        file: 'environment variable CAMS_REDIS_CLUSTER_NODES',
        key: 'redis.cluster.nodes',
        message: /second Redis topology: redis\.url \(config\/default\.json\) is set too/,
      },
    );
    rejects(
      {
        'config/default.json': {
          redis: { cluster: { nodes: ['a:1'] }, sentinel: { nodes: ['b:2'], name: 'm' } },
        },
      },
      {},
      {
        file: 'config/default.json',
        key: 'redis.sentinel.nodes',
        message: /redis\.cluster\.nodes \(config\/default\.json\)/,
      },
    );
  });

  test('Sentinel needs both the sentinels and the master name', () => {
    rejects(
      {},
      { CAMS_REDIS_SENTINELS: 's1:26379' },
      { key: 'redis.sentinel.name', message: /is required with redis\.sentinel\.nodes/ },
    );
    rejects(
      {},
      { CAMS_REDIS_SENTINEL_NAME: 'cams' },
      {
        file: 'environment variable CAMS_REDIS_SENTINEL_NAME',
        key: 'redis.sentinel.name',
        message: /without redis\.sentinel\.nodes/,
      },
    );
    rejects(
      {},
      { CAMS_REDIS_SENTINEL_PASSWORD: 'pw' },
      {
        file: 'environment variable CAMS_REDIS_SENTINEL_PASSWORD',
        key: 'redis.sentinel.password',
        message: /without redis\.sentinel\.nodes/,
      },
    );
  });

  test('a node that is not host:port names the entry', () => {
    rejects(
      { 'config/default.json': { redis: { cluster: { nodes: ['10.0.0.21:6379', '10.0.0.22'] } } } },
      {},
      { file: 'config/default.json', key: 'redis.cluster.nodes[1]', message: /must be "host:port"/ },
    );
    rejects(
      {},
      { CAMS_REDIS_SENTINELS: 's1:99999' },
      {
        file: 'environment variable CAMS_REDIS_SENTINELS',
        key: 'redis.sentinel.nodes[0]',
        message: /host:port/,
      },
    );
  });
});

describe('Redis credentials and TLS', () => {
  test('a password in the URL and in redis.password is a conflict; either alone is fine', () => {
    rejects(
      {},
      { REDIS_URL: 'redis://:pw-1@10.0.0.5:6379', CAMS_REDIS_PASSWORD: 'pw-2' },
      {
        file: 'environment variable CAMS_REDIS_PASSWORD',
        key: 'redis.password',
        message: /redis\.url carries a password too/,
      },
    );
    rejects(
      {},
      { REDIS_URL: 'redis://app@10.0.0.5:6379', CAMS_REDIS_USERNAME: 'app' },
      {
        file: 'environment variable CAMS_REDIS_USERNAME',
        key: 'redis.username',
        message: /carries a user too/,
      },
    );
    const cfg = load(
      {},
      { CAMS_REDIS_CLUSTER_NODES: 'a:1', CAMS_REDIS_USERNAME: 'app', CAMS_REDIS_PASSWORD: 'pw-3' },
    );
    assert.equal(cfg.redis.password, 'pw-3');
    const shown = redactConfig(cfg);
    assert.equal(shown.redis.password, '[REDACTED]');
    assert.ok(!JSON.stringify(shown).includes('pw-3'));
  });

  test('TLS keys need TLS, and say how to turn it on for the form in use', () => {
    rejects(
      {},
      { CAMS_REDIS_TLS_SERVERNAME: 'redis.internal' },
      {
        file: 'environment variable CAMS_REDIS_TLS_SERVERNAME',
        key: 'redis.tls.servername',
        message: /needs TLS: use a rediss:\/\/ URL/,
      },
    );
    rejects(
      {},
      { CAMS_REDIS_CLUSTER_NODES: 'a:1', CAMS_REDIS_TLS_INSECURE_SKIP_VERIFY: 'true' },
      {
        file: 'environment variable CAMS_REDIS_TLS_INSECURE_SKIP_VERIFY',
        key: 'redis.tls.insecureSkipVerify',
        message: /set redis\.tls\.enabled \(CAMS_REDIS_TLS\) to true/,
      },
    );
    rejects(
      {},
      { CAMS_REDIS_TLS: 'true' },
      {
        file: 'environment variable CAMS_REDIS_TLS',
        key: 'redis.tls.enabled',
        message: /for redis\.url, use a rediss:\/\/ URL/,
      },
    );
    rejects(
      {},
      { CAMS_REDIS_TLS: 'yes' },
      {
        file: 'environment variable CAMS_REDIS_TLS',
        key: 'redis.tls.enabled',
        message: /must be true or false \(got "yes"\)/,
      },
    );
  });

  test('the CA file resolves against the config directory and must exist; it excludes skipping verification', () => {
    const cfg = load({
      'config/default.json': { redis: { url: 'rediss://10.0.0.5:6380', tls: { caPath: 'ca.pem' } } },
      'config/ca.pem': 'x',
    });
    assert.match(cfg.redis.tls.caPath, /\/config\/ca\.pem$/);
    rejects(
      { 'config/default.json': { redis: { url: 'rediss://10.0.0.5:6380', tls: { caPath: 'missing.pem' } } } },
      {},
      {
        file: 'config/default.json',
        key: 'redis.tls.caPath',
        message: /file not found: config\/missing\.pem/,
      },
    );
    rejects(
      {
        'config/default.json': {
          redis: { url: 'rediss://h:1', tls: { caPath: 'ca.pem', insecureSkipVerify: true } },
        },
        'config/ca.pem': 'x',
      },
      {},
      { file: 'config/default.json', key: 'redis.tls.insecureSkipVerify', message: /not both/ },
    );
  });

  test('skipping certificate verification is allowed, with a loud warning', () => {
    const cfg = load(
      {},
      { REDIS_URL: 'rediss://10.0.0.5:6380', CAMS_REDIS_TLS_INSECURE_SKIP_VERIFY: 'true' },
    );
    assert.match(
      configWarnings(cfg).join('\n'),
      /^INSECURE: redis\.tls\.insecureSkipVerify is true.*NOT verified/m,
    );
  });
});
