import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { statsCommand, type Stats } from '../../src/cli/stats.js';
import { PrivateRedisServer, freePort } from '../../src/local/private-redis.js';
import { runCommand, tempDir } from '../ops/helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function openssl(args: string[]): void {
  const made = spawnSync('openssl', args);
  assert.equal(made.status, 0, made.stderr?.toString());
}

/** A private CA, and a server certificate it signed for `redis.internal` only (not for 127.0.0.1). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=cams-test-ca',
  ]);
  openssl([
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=redis.internal',
  ]);
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:redis.internal\n');
  openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
  ]);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

describe(
  'TLS with a private CA, and an ACL user',
  { skip: !hasOpenssl && 'openssl is not installed' },
  () => {
    const dir = tempDir();
    let redis: PrivateRedisServer;
    let env: Record<string, string>;

    before(async () => {
      const { ca, cert, key } = makeCertificates(dir);
      const tlsPort = await freePort();
      redis = await PrivateRedisServer.start({
        args: [
          '--tls-port',
          String(tlsPort),
          '--tls-cert-file',
          cert,
          '--tls-key-file',
          key,
          '--tls-ca-cert-file',
          ca,
          '--tls-auth-clients',
          'no',
          // The default user may only PING (the harness checks the server is up); cams-receipts logs in as "cams".
          '--user',
          'default',
          'on',
          'nopass',
          '-@all',
          '+ping',
          '--user',
          'cams',
          'on',
          '>cams-pw-0123',
          '~*',
          '&*',
          '+@all',
        ],
      });
      env = {
        REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        CAMS_REDIS_USERNAME: 'cams',
        CAMS_REDIS_PASSWORD: 'cams-pw-0123',
        CAMS_REDIS_TLS_CA_PATH: ca,
        CAMS_REDIS_TLS_SERVERNAME: 'redis.internal',
      };
    });
    after(async () => {
      await redis?.destroy();
    });

    test('the CA file, the server name and the ACL user connect: check-config and stats work', async () => {
      const check = await runCommand(checkConfigCommand, [], { cwd: dir, env });
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /^redis: standalone 127\.0\.0\.1:\d+ \(Redis [\d.]+\)$/m);
      assert.ok(!check.stdout.includes('cams-pw-0123'), 'the password is not printed');
      const stats = await runCommand(statsCommand, ['--json'], { cwd: dir, env });
      assert.equal(stats.code, 0, stats.stderr);
      assert.equal((JSON.parse(stats.stdout) as Stats).redis.available, true);
    });

    test('without the server name, or without the CA, the certificate is refused', async () => {
      const { CAMS_REDIS_TLS_SERVERNAME: _name, ...noName } = env;
      const wrongHost = await runCommand(checkConfigCommand, [], { cwd: dir, env: noName });
      assert.match(
        wrongHost.stderr,
        /warning: Redis at rediss:\/\/127\.0\.0\.1:\d+ is unreachable: .*(IP|altnames|does not match)/,
      );
      const { CAMS_REDIS_TLS_CA_PATH: _ca, ...noCa } = env;
      const untrusted = await runCommand(statsCommand, ['--json'], { cwd: dir, env: noCa });
      assert.equal(untrusted.code, 1);
      assert.match((JSON.parse(untrusted.stdout) as Stats).redis.reason ?? '', /certificate/);
    });

    test('insecureSkipVerify connects without checking, and says so loudly', async () => {
      const { CAMS_REDIS_TLS_CA_PATH: _ca, CAMS_REDIS_TLS_SERVERNAME: _name, ...rest } = env;
      const run = await runCommand(checkConfigCommand, [], {
        cwd: dir,
        env: { ...rest, CAMS_REDIS_TLS_INSECURE_SKIP_VERIFY: 'true' },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^redis: standalone /m);
      assert.match(run.stderr, /warning: INSECURE: redis\.tls\.insecureSkipVerify is true/);
    });

    test('a wrong password is reported, never printed', async () => {
      const run = await runCommand(checkConfigCommand, [], {
        cwd: dir,
        env: { ...env, CAMS_REDIS_PASSWORD: 'wrong-pw-987' },
      });
      assert.match(run.stderr, /unreachable: .*WRONGPASS/);
      assert.ok(!run.stderr.includes('wrong-pw-987') && !run.stdout.includes('wrong-pw-987'));
    });
  },
);
