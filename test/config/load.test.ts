import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { LoadConfigOptions } from '../../src/config/load.js';
import { configSchemaDocs } from '../../src/config/schema.js';
import { configWarnings } from '../../src/config/warnings.js';
import { ConfigError } from '../../src/errors.js';
import { problemLines, tempDir } from './fixtures.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function load(cwd: string, extra: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ cwd, env: {}, ...extra });
}

/** Asserts that `fn` throws a ConfigError for `file` and `key`, with a message matching `reason`. */
function assertConfigError(
  fn: () => unknown,
  file: string | undefined,
  key: string | undefined,
  reason: RegExp,
) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CAMS_ERR_CONFIG');
    assert.equal(err.file, file);
    assert.equal(err.key, key);
    assert.match(err.message, reason);
    return true;
  });
}

const STATUS_QUEUE = { messageType: 'ChatAppStatus', queueName: 'Alicom-Queue-1-ChatAppStatus' };

describe('layering', () => {
  test('defaults apply when there is no config directory at all', () => {
    const cwd = tempDir();
    const cfg = load(cwd);
    assert.equal(cfg.configDir, join(cwd, 'config'));
    assert.equal(cfg.env, 'production');
    assert.equal(cfg.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(cfg.redis.prefix, '{cams}');
    assert.equal(cfg.smq.endpoint, 'https://1943695596114318.mns.cn-hangzhou.aliyuncs.com');
    assert.equal(cfg.smq.accountId, '1943695596114318');
    assert.equal(cfg.smq.tokenEndpoint, 'https://dybaseapi.aliyuncs.com');
    assert.equal(cfg.smq.batchSize, 16);
    assert.equal(cfg.smq.waitSeconds, 30);
    assert.equal(cfg.pipeline.idempotencyTtlSeconds, 604_800);
    assert.equal(cfg.shutdown.drainTimeoutMs, 25_000);
    assert.equal(cfg.http.port, 0);
    assert.equal(cfg.http.host, '127.0.0.1');
    assert.deepEqual(cfg.http.paths, {
      ChatAppInbound: '/inbound',
      ChatAppStatus: '/appstatus',
      ChatAppAudit: '/appaudit',
      SmsReport: '',
      SmsUp: '',
    });
    assert.equal(cfg.admin.dashboard.readOnly, true);
    assert.deepEqual(cfg.handlers, ['log']);
    assert.deepEqual(cfg.consumers, []);
    assert.equal(cfg.log.format, 'json');
  });

  test('default.json < <NODE_ENV>.json < environment variables < overrides', () => {
    const cwd = tempDir({
      'config/default.json': {
        log: { level: 'warn' },
        smq: { waitSeconds: 10, batchSize: 4, maxInFlight: 100 },
        pipeline: { attempts: 2 },
        http: { port: 8000 },
      },
      'config/staging.json': { smq: { waitSeconds: 20, batchSize: 8 }, http: { port: 8001 } },
      'config/production.json': { smq: { waitSeconds: 1 } },
    });
    const cfg = load(cwd, {
      env: { NODE_ENV: 'staging', CAMS_HTTP_PORT: '8002', LOG_LEVEL: 'debug' },
      overrides: { 'http.port': 8003, role: 'worker' },
    });
    assert.equal(cfg.env, 'staging');
    assert.equal(cfg.pipeline.attempts, 2, 'default.json only');
    assert.equal(cfg.smq.maxInFlight, 100, 'default.json only');
    assert.equal(cfg.smq.batchSize, 8, 'staging.json beats default.json');
    assert.equal(cfg.smq.waitSeconds, 20, 'production.json is not read under NODE_ENV=staging');
    assert.equal(cfg.log.level, 'debug', 'env beats files');
    assert.equal(cfg.http.port, 8003, 'overrides beat env');
    assert.equal(cfg.role, 'worker');
  });

  test('environment variables map to their documented keys', () => {
    const cwd = tempDir();
    const cfg = load(cwd, {
      env: {
        REDIS_URL: 'redis://10.0.0.5:6380/2',
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'the-secret',
        CAMS_HTTP_PORT: '9000',
        CAMS_ROLE: 'poller',
        CAMS_SMQ_ENDPOINT: 'http://127.0.0.1:9100/',
        CAMS_DRAIN_TIMEOUT_MS: '5000',
        LOG_LEVEL: 'warn',
      },
    });
    assert.equal(cfg.redis.url, 'redis://10.0.0.5:6380/2');
    assert.equal(cfg.credentials.accessKeyId, 'LTAI-id');
    assert.equal(cfg.credentials.accessKeySecret, 'the-secret');
    assert.equal(cfg.http.port, 9000);
    assert.equal(cfg.role, 'poller');
    assert.equal(cfg.smq.endpoint, 'http://127.0.0.1:9100', 'trailing slash removed');
    assert.equal(cfg.shutdown.drainTimeoutMs, 5000);
    assert.equal(cfg.log.level, 'warn');
  });

  test('an empty environment variable counts as unset', () => {
    const cfg = load(tempDir(), { env: { CAMS_HTTP_PORT: '', LOG_LEVEL: '' } });
    assert.equal(cfg.http.port, 0);
    assert.equal(cfg.log.level, 'info');
  });

  test('string overrides (from argv) are typed by their key', () => {
    const cfg = load(tempDir(), { overrides: { 'smq.batchSize': '8', 'http.trustProxy': 'true' } });
    assert.equal(cfg.smq.batchSize, 8);
    assert.equal(cfg.http.trustProxy, true);
    assert.equal(load(tempDir(), { overrides: { 'http.trustProxy': '2' } }).http.trustProxy, 2);
    assertConfigError(
      () => load(tempDir(), { overrides: { 'admin.dashboard.readOnly': '1' } }),
      'command-line option',
      'admin.dashboard.readOnly',
      /true or false/,
    );
  });

  test('log.format is pretty under NODE_ENV=development unless something sets it', () => {
    const cwd = tempDir();
    assert.equal(load(cwd, { env: { NODE_ENV: 'development' } }).log.format, 'pretty');
    assert.equal(load(cwd, { env: { NODE_ENV: 'development', CAMS_LOG_FORMAT: 'json' } }).log.format, 'json');
    const withFile = tempDir({ 'config/default.json': { log: { format: 'json' } } });
    assert.equal(load(withFile, { env: { NODE_ENV: 'development' } }).log.format, 'json');
  });

  test('--config picks the directory, relative to cwd; a missing explicit directory is an error', () => {
    const cwd = tempDir({ 'elsewhere/default.json': { smq: { batchSize: 3 } } });
    const cfg = load(cwd, { configDir: 'elsewhere' });
    assert.equal(cfg.configDir, join(cwd, 'elsewhere'));
    assert.equal(cfg.smq.batchSize, 3);
    assertConfigError(
      () => load(cwd, { configDir: 'nope' }),
      'nope',
      undefined,
      /config directory not found/,
    );
  });

  test('CAMS_CONFIG_DIR picks the directory when --config is not given, and must exist', () => {
    const cwd = tempDir({ 'etc/default.json': { smq: { batchSize: 4 } }, 'cli/default.json': {} });
    const cfg = load(cwd, { env: { CAMS_CONFIG_DIR: 'etc' } });
    assert.equal(cfg.configDir, join(cwd, 'etc'));
    assert.equal(cfg.smq.batchSize, 4);
    const explicit = load(cwd, { env: { CAMS_CONFIG_DIR: 'etc' }, configDir: 'cli' });
    assert.equal(explicit.configDir, join(cwd, 'cli'), '--config wins over CAMS_CONFIG_DIR');
    assertConfigError(
      () => load(cwd, { env: { CAMS_CONFIG_DIR: 'missing' } }),
      'missing',
      undefined,
      /config directory not found \(from CAMS_CONFIG_DIR\)/,
    );
  });

  test('http.tls paths resolve against the config directory and must exist', () => {
    const cwd = tempDir({
      'config/default.json': { http: { tls: { certPath: 'tls/cert.pem', keyPath: 'tls/key.pem' } } },
      'config/tls/cert.pem': 'x',
      'config/tls/key.pem': 'y',
    });
    const cfg = load(cwd);
    assert.equal(cfg.http.tls.certPath, join(cwd, 'config/tls/cert.pem'));
    assert.equal(cfg.http.tls.keyPath, join(cwd, 'config/tls/key.pem'));
    const missing = tempDir({
      'config/default.json': { http: { tls: { certPath: 'c.pem', keyPath: 'k.pem' } } },
    });
    assertConfigError(() => load(missing), 'config/default.json', 'http.tls.certPath', /file not found/);
  });
});

describe('the result', () => {
  test('is deeply frozen: mutation throws', () => {
    const cwd = tempDir({ 'config/queues/q.json': STATUS_QUEUE });
    const cfg = load(cwd);
    assert.throws(() => {
      (cfg as { role: string }).role = 'worker';
    }, TypeError);
    assert.throws(() => {
      (cfg.smq as { batchSize: number }).batchSize = 1;
    }, TypeError);
    assert.throws(() => {
      (cfg.handlers as string[]).push('forward');
    }, TypeError);
    assert.throws(() => {
      (cfg.consumers[0] as { queueName: string }).queueName = 'x';
    }, TypeError);
    assert.throws(() => {
      (cfg.http.paths as Record<string, string>)['ChatAppInbound'] = '/x';
    }, TypeError);
  });

  test('every schema key has a doc, a format function and a default', () => {
    const leaves = configSchemaDocs();
    assert.ok(leaves.length > 40);
    for (const leaf of leaves) {
      assert.ok(leaf.doc.length > 10, `${leaf.key} has a doc`);
      assert.equal(typeof leaf.format, 'function', `${leaf.key} has a format function`);
      assert.notEqual(leaf.default, undefined, `${leaf.key} has a default`);
    }
    const sensitive = leaves.filter(l => l.sensitive).map(l => l.key);
    assert.deepEqual(sensitive.sort(), [
      'admin.dashboard.password',
      'credentials.accessKeyId',
      'credentials.accessKeySecret',
      'credentials.securityToken',
      'http.secret',
      'redis.password',
      'redis.sentinel.password',
    ]);
  });

  test('the shipped config directories are valid', () => {
    const shipped = load(repo, { configDir: 'config' });
    assert.deepEqual(shipped.consumers, [], 'the .sample queue file is not loaded');
    const emulator = load(repo, { configDir: 'config/emulator' });
    assert.equal(emulator.smq.endpoint, 'http://127.0.0.1:9100');
    assert.deepEqual(
      emulator.consumers.map(c => [c.messageType, c.queueName, c.endpoint]),
      ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'].map(t => [
        t,
        `Alicom-Queue-1234567890123456-${t}`,
        'http://127.0.0.1:9100',
      ]),
    );
    assert.deepEqual(configWarnings(emulator), []);
  });
});

describe('strict validation names the file and the key', () => {
  test('an unknown key in default.json', () => {
    const cwd = tempDir({ 'config/default.json': { smq: { batchSize: 4, bogusKey: 1 } } });
    assertConfigError(() => load(cwd), 'config/default.json', 'smq.bogusKey', /unknown key/);
  });

  test("bad environment variables are reported beside the files' problems, each naming its variable", () => {
    const cwd = tempDir({ 'config/default.json': { smq: { batchsize: 4 } } });
    const lines = problemLines(() =>
      load(cwd, { env: { CAMS_HTTP_PORT: 'eighty', CAMS_DRAIN_TIMEOUT_MS: 'soon' } }),
    );
    assert.equal(lines[0], '3 problems:');
    assert.match(lines[1] ?? '', /config\/default\.json: smq\.batchsize: unknown key/);
    const rest = lines.slice(2).join('\n');
    assert.match(rest, /environment variable CAMS_HTTP_PORT: http\.port: must be a number/);
    assert.match(rest, /environment variable CAMS_DRAIN_TIMEOUT_MS: [\w.]+: must be a number/);
  });

  test('every problem of the files is reported at once, a line each', () => {
    const cwd = tempDir({
      'config/default.json': { smq: { batchsize: 4, waitSeconds: 'long' }, piepline: {} },
      'config/production.json': { http: { port: -1 } },
    });
    const lines = problemLines(() => load(cwd));
    assert.equal(lines[0], '4 problems:');
    assert.match(
      lines[1] ?? '',
      /config\/default\.json: smq\.batchsize: unknown key; did you mean "smq\.batchSize"\?/,
    );
    assert.match(lines[2] ?? '', /config\/default\.json: smq\.waitSeconds: /);
    assert.match(lines[3] ?? '', /config\/default\.json: piepline: unknown key; did you mean "pipeline"\?/);
    assert.match(lines[4] ?? '', /config\/production\.json: http\.port: /);
  });

  test('a misspelt key or message type says which one was meant', () => {
    const key = tempDir({ 'config/default.json': { smq: { batchsize: 4 } } });
    assertConfigError(
      () => load(key),
      'config/default.json',
      'smq.batchsize',
      /did you mean "smq\.batchSize"\?/,
    );
    const top = tempDir({ 'config/default.json': { piepline: { attempts: 2 } } });
    assertConfigError(() => load(top), 'config/default.json', 'piepline', /did you mean "pipeline"\?/);
    const far = tempDir({ 'config/default.json': { smq: { somethingElse: 1 } } });
    assert.throws(
      () => load(far),
      (err: Error) => !/did you mean/.test(err.message),
    );
    const queue = tempDir({
      'config/queues/q.json': { messageType: 'ChatAppStatuses', queueName: 'Alicom-Queue-1-ChatAppStatus' },
    });
    assert.throws(() => load(queue), /did you mean "ChatAppStatus"\?/);
    const queueKey = tempDir({
      'config/queues/q.json': { messageTyp: 'ChatAppStatus', queueName: 'Alicom-Queue-1-ChatAppStatus' },
    });
    assert.throws(() => load(queueKey), /unknown key .*did you mean "messageType"\?/);
  });

  test('an unknown top-level key in the NODE_ENV file', () => {
    const cwd = tempDir({ 'config/default.json': {}, 'config/test.json': { redis: {}, nope: true } });
    assertConfigError(
      () => load(cwd, { env: { NODE_ENV: 'test' } }),
      'config/test.json',
      'nope',
      /unknown key/,
    );
  });

  test('a bad value names the file, the key, the rule and the value', () => {
    const cwd = tempDir({ 'config/default.json': { smq: { batchSize: 17 } } });
    assertConfigError(() => load(cwd), 'config/default.json', 'smq.batchSize', /from 1 to 16 \(got 17\)/);
    const ws = tempDir({ 'config/default.json': { smq: { waitSeconds: 31 } } });
    assertConfigError(() => load(ws), 'config/default.json', 'smq.waitSeconds', /from 0 to 30/);
    const str = tempDir({ 'config/default.json': { pipeline: { attempts: '3' } } });
    assertConfigError(() => load(str), 'config/default.json', 'pipeline.attempts', /integer/);
  });

  test('a group given a scalar', () => {
    const cwd = tempDir({ 'config/default.json': { smq: 5 } });
    assertConfigError(() => load(cwd), 'config/default.json', 'smq', /must be an object/);
  });

  test('the redis prefix needs a hash tag', () => {
    const cwd = tempDir({ 'config/default.json': { redis: { prefix: 'cams' } } });
    assertConfigError(() => load(cwd), 'config/default.json', 'redis.prefix', /hash-tag/);
  });

  test('env may only come from NODE_ENV', () => {
    const cwd = tempDir({ 'config/default.json': { env: 'staging' } });
    assertConfigError(() => load(cwd), 'config/default.json', 'env', /NODE_ENV/);
  });

  test('a bad environment variable names the variable', () => {
    const cwd = tempDir();
    assertConfigError(
      () => load(cwd, { env: { CAMS_HTTP_PORT: 'eighty' } }),
      'environment variable CAMS_HTTP_PORT',
      'http.port',
      /must be a number/,
    );
    assertConfigError(
      () => load(cwd, { env: { REDIS_URL: 'http://x' } }),
      'environment variable REDIS_URL',
      'redis.url',
      /redis:\/\//,
    );
    assertConfigError(
      () => load(cwd, { env: { LOG_LEVEL: 'loud' } }),
      'environment variable LOG_LEVEL',
      'log.level',
      /one of error, warn, info/,
    );
  });

  test('unknown and bad overrides name the command line', () => {
    const cwd = tempDir();
    assertConfigError(
      () => load(cwd, { overrides: { 'smq.nope': 1 } }),
      'command-line option',
      'smq.nope',
      /unknown/,
    );
    assertConfigError(
      () => load(cwd, { overrides: { role: 'boss' } }),
      'command-line option',
      'role',
      /all, poller, worker/,
    );
  });

  test('invalid JSON names the file and the line', () => {
    const cwd = tempDir({ 'config/default.json': '{\n  "smq": {\n    "batchSize": 4,\n  }\n}\n' });
    assertConfigError(() => load(cwd), 'config/default.json', undefined, /invalid JSON at line 4/);
  });

  test('handler entries are checked one by one', () => {
    const cwd = tempDir({
      'config/default.json': {
        handlers: ['log', { module: './h.js', options: {} }, { module: './x.js', option: 1 }],
      },
    });
    assertConfigError(() => load(cwd), 'config/default.json', 'handlers[2].option', /unknown key/);
    const bad = tempDir({ 'config/default.json': { handlers: [{ options: {} }] } });
    assertConfigError(() => load(bad), 'config/default.json', 'handlers[0].module', /module path/);
    const ok = load(
      tempDir({ 'config/default.json': { handlers: ['log', { module: './h.js', options: { a: 1 } }] } }),
    );
    assert.deepEqual(ok.handlers, ['log', { module: './h.js', options: { a: 1 } }]);
    const builtin = load(
      tempDir({ 'config/default.json': { handlers: [{ name: 'forward', options: { url: 'http://x' } }] } }),
    );
    assert.deepEqual(builtin.handlers, [{ name: 'forward', options: { url: 'http://x' } }]);
    const badName = tempDir({ 'config/default.json': { handlers: [{ name: 'Forward!' }] } });
    assertConfigError(
      () => load(badName),
      'config/default.json',
      'handlers[0].name',
      /built-in handler name/,
    );
  });

  test('the allowlist takes IPs and CIDRs only', () => {
    const ok = load(
      tempDir({ 'config/default.json': { http: { allowlist: ['10.0.0.0/8', '::1', '192.168.1.7'] } } }),
    );
    assert.equal(ok.http.allowlist.length, 3);
    const bad = tempDir({ 'config/default.json': { http: { allowlist: ['10.0.0.0/8', '10.0.0.0/33'] } } });
    assertConfigError(() => load(bad), 'config/default.json', 'http.allowlist[1]', /CIDR/);
  });

  test('keys that depend on each other', () => {
    const lease = tempDir({ 'config/default.json': { smq: { leaseLeadMs: 60_000 } } });
    assertConfigError(
      () => load(lease),
      'config/default.json',
      'smq.leaseLeadMs',
      /visibilityTimeoutSeconds/,
    );
    const ports = tempDir({ 'config/default.json': { http: { port: 8080 }, admin: { port: 8080 } } });
    assertConfigError(() => load(ports), 'config/default.json', 'admin.port', /differ/);
    const dash = tempDir({
      'config/default.json': { http: { port: 8080 }, admin: { dashboard: { enabled: true } } },
    });
    assertConfigError(
      () => load(dash),
      'config/default.json',
      'admin.dashboard.enabled',
      /CAMS_DASHBOARD_PASSWORD/,
    );
    const withPassword = load(dash, { env: { CAMS_DASHBOARD_PASSWORD: 'pw-123456' } });
    assert.equal(withPassword.admin.dashboard.enabled, true);
    const paths = tempDir({ 'config/default.json': { http: { paths: { ChatAppAudit: '/inbound' } } } });
    assertConfigError(
      () => load(paths),
      'config/default.json',
      'http.paths.ChatAppAudit',
      /share the push path/,
    );
  });

  test('a sensitive value is never echoed in an error', () => {
    const cwd = tempDir({ 'config/default.json': { http: { secret: 'short-Secr3t!' } } });
    assert.throws(
      () => load(cwd),
      (err: unknown) =>
        err instanceof ConfigError && err.key === 'http.secret' && !err.message.includes('Secr3t'),
    );
  });
});

describe('credentials', () => {
  const cwdWithQueue = () => tempDir({ 'config/queues/q.json': STATUS_QUEUE });

  test('without explicit keys the config is valid: the default credential chain is used at start', () => {
    const cwd = cwdWithQueue();
    const config = load(cwd);
    assert.equal(config.consumers.length, 1);
    assert.deepEqual(config.credentials, { accessKeyId: '', accessKeySecret: '', securityToken: '' });
    assert.doesNotMatch(configWarnings(config).join('\n'), /AccessKey/);
  });

  test('an STS triple from the environment lands in credentials.*', () => {
    const env = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'CAIS-token',
    };
    assert.deepEqual(load(cwdWithQueue(), { env }).credentials, {
      accessKeyId: 'STS.id',
      accessKeySecret: 'secret',
      securityToken: 'CAIS-token',
    });
  });

  test('a security token without the pair is an error naming the key', () => {
    assertConfigError(
      () => load(tempDir(), { env: { ALIBABA_CLOUD_SECURITY_TOKEN: 'CAIS-token' } }),
      undefined,
      'credentials.securityToken',
      /ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/,
    );
  });

  test('only one half of the AccessKey is always an error', () => {
    assertConfigError(
      () => load(tempDir(), { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id' } }),
      undefined,
      'credentials.accessKeySecret',
      /set both/,
    );
  });
});

describe('warnings', () => {
  test('flag likely mistakes without failing', () => {
    const cwd = tempDir({
      'config/default.json': { http: { host: '0.0.0.0', port: 8080 }, smq: { accountId: '42' } },
      'config/queues/q.yaml': 'messageType: ChatAppInbound\nqueueName: Alicom-Queue-1-ChatAppStatus\n',
    });
    const warnings = configWarnings(load(cwd)).join('\n');
    assert.match(warnings, /without http\.secret or http\.allowlist/);
    assert.match(warnings, /looks like a ChatAppStatus queue/);
    assert.match(warnings, /belongs to account 1943695596114318 but smq\.accountId is 42/);
  });
});
