import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import type { CliIo } from '../../src/cli/io.js';
import { isolateCredentialEnv } from '../helpers/cloud.js';
import { tempDir } from './fixtures.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  const io: CliIo = {
    env,
    cwd,
    stdout,
    stderr,
    stdin: new PassThrough(),
    shutdown: new AbortController().signal,
    onReload: () => undefined,
    notifyReady: () => undefined,
  };
  const code = await checkConfigCommand(args, io);
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

const SECRETS = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tFakeKeyId0001',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'FakeSecretValue-abcdef123456',
  CAMS_HTTP_SECRET: 'push-secret-0123456789',
  CAMS_DASHBOARD_PASSWORD: 'dashboard-pw-987',
  REDIS_URL: 'redis://:redis-pw-555@127.0.0.1:6379/0',
};

/** A handler module whose init would fail: check-config must import it without calling init. */
const FORWARDER = `export default {
  name: 'forwarder',
  messageTypes: ['ChatAppStatus'],
  init() { throw new Error('init must not run during check-config'); },
  handle() {},
};
`;

function configWithSecrets(): string {
  return tempDir({
    'config/default.json': {
      http: { port: 8080 },
      admin: { dashboard: { enabled: true } },
      handlers: [
        'log',
        { module: './forward.mjs', options: { url: 'http://x', hmacSecret: 'hmac-secret-777' } },
      ],
    },
    'config/forward.mjs': FORWARDER,
    'config/queues/cams.yaml': '- messageType: ChatAppStatus\n  queueName: Alicom-Queue-1-ChatAppStatus\n',
  });
}

// The credential library reads process.env and the home directory itself: keep both empty here.
const isolated = isolateCredentialEnv();
after(() => isolated.restore());

describe('check-config', () => {
  test('prints the effective configuration with every secret redacted, and exits 0', async () => {
    const result = await run([], configWithSecrets(), SECRETS);
    assert.equal(result.code, 0, result.stderr);
    const all = result.stdout + result.stderr;
    for (const secret of [...Object.values(SECRETS).slice(0, 4), 'redis-pw-555', 'hmac-secret-777']) {
      assert.ok(!all.includes(secret), `${secret} must not be printed`);
    }
    const [json, summary] = result.stdout.split(/\n(?=consumers:)/);
    const printed = JSON.parse(json ?? '') as Record<string, Record<string, unknown>>;
    assert.equal(printed['credentials']?.['accessKeyId'], '[REDACTED]');
    assert.equal(printed['credentials']?.['accessKeySecret'], '[REDACTED]');
    assert.equal(printed['http']?.['secret'], '[REDACTED]');
    assert.equal(printed['http']?.['port'], 8080);
    assert.equal(printed['redis']?.['url'], 'redis://:REDACTED@127.0.0.1:6379/0');
    assert.equal(
      printed['smq']?.['tokenEndpoint'],
      'https://dybaseapi.aliyuncs.com',
      'non-secret keys stay readable',
    );
    assert.match(summary ?? '', /^consumers: 1: ChatAppStatus Alicom-Queue-1-ChatAppStatus \(cams, https:/);
    assert.match(summary ?? '', /^handlers: log, forwarder$/m);
    assert.match(summary ?? '', /^credentials: configured key: static_ak$/m);
  });

  test('a handler module that is missing or malformed exits 1, naming it; a poller does not load handlers', async () => {
    const files = (module: string) => ({
      'config/default.json': { handlers: ['log', { module }] },
      'config/bad-shape.mjs': 'export default { name: "half" };\n',
      'config/queues/q.json': { messageType: 'ChatAppStatus', queueName: 'Alicom-Queue-1-ChatAppStatus' },
    });
    const missing = await run(['--json'], tempDir(files('./no-such-handler.mjs')));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /invalid handlers: .*no-such-handler\.mjs/);
    const out = JSON.parse(missing.stdout) as { ok: boolean; error: Record<string, string> };
    assert.equal(out.ok, false);
    assert.equal(out.error['code'], 'CAMS_ERR_HANDLER_LOAD');

    const malformed = await run([], tempDir(files('./bad-shape.mjs')));
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /invalid handlers: .*bad-shape\.mjs/);

    const poller = await run(['--json'], tempDir(files('./no-such-handler.mjs')), { CAMS_ROLE: 'poller' });
    assert.equal(poller.code, 0, poller.stderr);
    assert.equal((JSON.parse(poller.stdout) as { handlers?: unknown }).handlers, undefined);
  });

  test('a consumed type without any handler exits 1 with the handlers key', async () => {
    const cwd = tempDir({
      'config/default.json': { handlers: [{ module: './forward.mjs' }] },
      'config/forward.mjs': FORWARDER,
      'config/queues/q.json': { messageType: 'ChatAppInbound', queueName: 'Alicom-Queue-1-ChatAppInbound' },
    });
    const result = await run(['--json'], cwd);
    assert.equal(result.code, 1);
    const out = JSON.parse(result.stdout) as { error: Record<string, string> };
    assert.equal(out.error['code'], 'CAMS_ERR_CONFIG');
    assert.equal(out.error['key'], 'handlers');
    assert.match(out.error['message'] ?? '', /no handler is registered for ChatAppInbound/);
  });

  test('--json prints one object; warnings are included; unset secrets show as empty', async () => {
    const cwd = tempDir({
      'config/queues/q.json': { messageType: 'ChatAppInbound', queueName: 'Alicom-Queue-1-ChatAppInbound' },
    });
    const result = await run(['--json'], cwd);
    assert.equal(result.code, 0);
    const out = JSON.parse(result.stdout) as {
      ok: boolean;
      config: { credentials: object };
      handlers: string[];
      warnings: string[];
    };
    assert.equal(out.ok, true);
    assert.deepEqual(out.handlers, ['log']);
    assert.deepEqual(out.config.credentials, { accessKeyId: '', accessKeySecret: '', securityToken: '' });
    assert.match(out.warnings.join('\n'), /no account credential was found.*ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });

  test('no account credential anywhere is a warning on stderr, not a failure', async () => {
    const cwd = tempDir({
      'config/queues/q.json': { messageType: 'ChatAppInbound', queueName: 'Alicom-Queue-1-ChatAppInbound' },
    });
    const result = await run([], cwd);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^credentials: none found$/m);
    assert.match(result.stderr, /^warning: no account credential was found; `start` will refuse to run: /m);
  });

  test('an invalid configuration exits 1 with the file and the key on stderr', async () => {
    const cwd = tempDir({
      'conf/queues/a.yaml': 'messageType: ChatAppStatus\nqueueName: Alicom-Queue-1-ChatAppStatus\nwait: 3\n',
    });
    const result = await run(['--config', 'conf'], cwd);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /invalid configuration: conf\/queues\/a\.yaml: wait: unknown key/);
    const json = await run(['--config', 'conf', '--json'], cwd);
    assert.equal(json.code, 1);
    const out = JSON.parse(json.stdout) as { ok: boolean; error: Record<string, string> };
    assert.equal(out.ok, false);
    assert.deepEqual(
      { code: out.error['code'], file: out.error['file'], key: out.error['key'] },
      { code: 'CAMS_ERR_CONFIG', file: 'conf/queues/a.yaml', key: 'wait' },
    );
  });

  test('usage errors exit 2; --help exits 0', async () => {
    const cwd = tempDir();
    const unknown = await run(['--bogus'], cwd);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Usage: cams-receipts check-config/);
    assert.equal((await run(['--config'], cwd)).code, 2);
    assert.equal((await run(['extra'], cwd)).code, 2);
    const help = await run(['--help'], cwd);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--config <dir>/);
  });
});
