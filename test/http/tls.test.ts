import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { createHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../helpers/redis.js';
import { statusBatch } from './fixtures.js';
import { SUCCESS, httpConfig, json, push, startReceiver } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'cams-http-tls-'));
const certPath = join(dir, 'cert.pem');
const keyPath = join(dir, 'key.pem');

before(() => {
  if (!hasOpenssl) return;
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  assert.equal(made.status, 0, made.stderr?.toString());
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'with a certificate and key, the receiver serves HTTPS',
  { skip: !hasOpenssl && 'openssl is not installed' },
  async () => {
    const r = await startReceiver({ config: { tls: { certPath, keyPath } } });
    try {
      assert.match(r.url, /^https:\/\//);
      const res = await push(r.url, '/appstatus', statusBatch('tls', 2));
      assert.equal(res.status, 200);
      assert.deepEqual(json(res), SUCCESS);
      await eventually(() => r.handler.calls.length === 2, 10_000, 'both receipts handled');
      await assert.rejects(
        push(r.url.replace('https:', 'http:'), '/appstatus', '[]'),
        'plain HTTP is not served',
      );
    } finally {
      await r.close();
    }
  },
);

test('a TLS setting with one path missing, or an unreadable file, is a ConfigError naming the key', () => {
  const stores = {
    sink: { submit: async () => [] },
    deadLetters: { park: async () => 'x' },
    logger: silentLogger(),
  };
  assert.throws(
    () => createHttpServer({ ...stores, config: httpConfig({ tls: { certPath, keyPath: '' } }) }),
    (err: unknown) => err instanceof ConfigError && err.key === 'http.tls',
  );
  assert.throws(
    () =>
      createHttpServer({
        ...stores,
        config: httpConfig({ tls: { certPath: join(dir, 'nope.pem'), keyPath } }),
      }),
    (err: unknown) =>
      err instanceof ConfigError && err.key === 'http.tls.certPath' && /nope\.pem/.test(err.message),
  );
});
