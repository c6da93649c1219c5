// Account keys: from the environment (an AccessKey, an STS triple), from a profile file that is
// rewritten while running, and no source at all. Real emulator, real HTTP.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import type { CliIo, Command } from '../../src/cli/io.js';
import { startCommand } from '../../src/cli/start.js';
import { loadConfig } from '../../src/config/load.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { SmqError, TokenError } from '../../src/errors.js';
import { assumeRole, isolateCredentialEnv, type StsTriple } from '../helpers/cloud.js';
import { tempDir } from '../config/fixtures.js';
import {
  KEY_A,
  KEY_B,
  account,
  assertNoSecrets,
  pollStatic,
  pollWithToken,
  refreshSigner,
  startCloud,
  tokenProvider,
} from './helpers.js';

let emu: EmulatorHandle;
let restore = (): void => undefined;

before(async () => {
  emu = await startCloud();
});
after(() => emu.close());
afterEach(() => restore());

function isolate(vars: Record<string, string | undefined> = {}): ReturnType<typeof isolateCredentialEnv> {
  restore(); // one isolation at a time, so the last restore brings back the real environment
  const isolated = isolateCredentialEnv(vars);
  restore = isolated.restore;
  return isolated;
}

/** The environment as src/main.ts passes it, through the real config loader. */
function fromEnv(vars: Record<string, string>): ReturnType<typeof account> {
  const { env } = isolate(vars);
  return account(env, loadConfig({ cwd: tempDir(), env }).credentials);
}

test('an AccessKey from ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET signs QueryTokenForMnsQueue', async () => {
  const {
    account: creds,
    logger,
    lines,
  } = fromEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: KEY_A.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY_A.secret,
  });
  const tokens = tokenProvider(emu, creds, logger);
  assert.equal(await refreshSigner(emu, tokens), KEY_A.id);
  assert.equal(creds.source(), 'configured key: static_ak');
  await pollStatic(emu, creds);
  await assertNoSecrets(lines, [KEY_A.secret]);
});

test('an STS triple from the environment sends its SecurityToken, to Dybaseapi and to SMQ', async () => {
  const triple = await assumeRole(emu.endpoint, KEY_A.id, KEY_A.secret);
  const {
    account: creds,
    logger,
    lines,
  } = fromEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: triple.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: triple.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: triple.securityToken,
  });
  const tokens = tokenProvider(emu, creds, logger);
  assert.equal(await refreshSigner(emu, tokens), triple.accessKeyId);
  assert.equal(creds.source(), 'configured key: static_sts');
  await pollStatic(emu, creds);
  await assertNoSecrets(lines, secretsOf(triple));
});

test('the emulator refuses an STS pair without its token, or with another one', async () => {
  const triple = await assumeRole(emu.endpoint, KEY_A.id, KEY_A.secret);
  const other = await assumeRole(emu.endpoint, KEY_A.id, KEY_A.secret);
  for (const [token, code] of [
    [undefined, 'MissingSecurityToken'],
    [other.securityToken, 'InvalidSecurityToken.MismatchWithAccessKey'],
  ] as const) {
    const vars: Record<string, string> = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: triple.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: triple.accessKeySecret,
    };
    if (token) vars['ALIBABA_CLOUD_SECURITY_TOKEN'] = token;
    const { account: creds, logger, lines } = fromEnv(vars);
    const failed = await tokenProvider(emu, creds, logger)
      .get('ChatAppStatus', emu.queues['ChatAppStatus'] as string)
      .catch((e: unknown) => e);
    assert.ok(failed instanceof TokenError, String(failed));
    assert.equal(failed.errorClass, 'auth');
    assert.match(failed.message, new RegExp(code.replace('.', '\\.')));
    const smq = await pollStatic(emu, creds).catch((e: unknown) => e);
    assert.ok(smq instanceof SmqError && smq.errorClass === 'auth', String(smq));
    await assertNoSecrets(lines, [...secretsOf(triple), other.securityToken]);
  }
});

test('a profile file (ALIBABA_CLOUD_CREDENTIALS_FILE, ALIBABA_CLOUD_PROFILE) is re-read when rewritten', async () => {
  const file = join(tempDir(), 'credentials');
  const profiles = (camsKey: { id: string; secret: string }): string =>
    `[default]\ntype = access_key\naccess_key_id = ${KEY_B.id}\naccess_key_secret = ${KEY_B.secret}\n\n` +
    `[cams]\ntype = access_key\naccess_key_id = ${camsKey.id}\naccess_key_secret = ${camsKey.secret}\n`;
  writeFileSync(file, profiles(KEY_A));
  const { env } = isolate({ ALIBABA_CLOUD_CREDENTIALS_FILE: file, ALIBABA_CLOUD_PROFILE: 'cams' });
  const { account: creds, logger, lines } = account(env);
  const tokens = tokenProvider(emu, creds, logger);
  assert.equal(await refreshSigner(emu, tokens), KEY_A.id, 'the named profile, not [default]');
  assert.equal(creds.source(), 'default chain: profile');
  assert.equal(await refreshSigner(emu, tokens), KEY_A.id, 'unchanged file, same key');

  writeFileSync(file, profiles(KEY_B));
  assert.equal(await refreshSigner(emu, tokens), KEY_B.id, 'the next refresh uses the new key');
  await pollStatic(emu, creds);
  await assertNoSecrets(lines, [KEY_A.secret, KEY_B.secret]);
});

test('a key the service rejects is re-read at once: a fixed profile file works on the next refresh', async () => {
  const file = join(tempDir(), 'credentials');
  const profile = (secret: string): string =>
    `[default]\ntype = access_key\naccess_key_id = ${KEY_A.id}\naccess_key_secret = ${secret}\n`;
  writeFileSync(file, profile('a-wrong-secret-0000000000'));
  const { env } = isolate({ ALIBABA_CLOUD_CREDENTIALS_FILE: file });
  const { account: creds, logger, lines } = account(env);
  const tokens = tokenProvider(emu, creds, logger);
  const queueName = emu.queues['ChatAppStatus'] as string;
  const failed = await tokens.get('ChatAppStatus', queueName).catch((e: unknown) => e);
  assert.ok(failed instanceof TokenError && failed.errorClass === 'auth', String(failed));
  writeFileSync(file, profile(KEY_A.secret));
  await pollWithToken(emu, tokens);
  assert.equal(tokens.status()[0]?.lastErrorClass, undefined);
  await assertNoSecrets(lines, [KEY_A.secret, 'a-wrong-secret-0000000000']);
});

test('no source: a TokenError that names what was tried; ~/.alibabacloud/credentials written later is found', async () => {
  const { env, home } = isolate();
  const { account: creds, logger, lines } = account(env);
  const failed = await creds.get().catch((e: unknown) => e);
  assert.ok(failed instanceof TokenError && failed.errorClass === 'auth', String(failed));
  assert.match(failed.message, /default chain.*ALIBABA_CLOUD_ACCESS_KEY_ID.*\.alibabacloud\/credentials/s);
  assert.equal(creds.source(), undefined);

  mkdirSync(join(home, '.alibabacloud'));
  writeFileSync(
    join(home, '.alibabacloud', 'credentials'),
    `[default]\ntype = access_key\naccess_key_id = ${KEY_A.id}\naccess_key_secret = ${KEY_A.secret}\n`,
  );
  const found = await creds.get().catch((e: unknown) => e);
  assert.ok(!(found instanceof Error), String(found));
  assert.equal(creds.source(), 'default chain: profile');
  assert.equal(await refreshSigner(emu, tokenProvider(emu, creds, logger)), KEY_A.id);
  await assertNoSecrets(lines, [KEY_A.secret]);
});

async function cli(
  command: Command,
  args: string[],
  cwd: string,
  env: CliIo['env'],
): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const io: CliIo = {
    env,
    cwd,
    stdout,
    stderr: stdout,
    stdin: new PassThrough(),
    shutdown: new AbortController().signal,
    onReload: () => undefined,
    notifyReady: () => undefined,
  };
  const code = await command(args, io);
  return { code, out: Buffer.concat(chunks).toString() };
}

const QUEUE = {
  'config/queues/q.json': { messageType: 'ChatAppStatus', queueName: 'Alicom-Queue-1-ChatAppStatus' },
};

test('check-config names the source it found, never the key; start refuses to run without one', async () => {
  const cwd = tempDir(QUEUE);
  const file = join(cwd, 'credentials');
  writeFileSync(
    file,
    `[default]\ntype = access_key\naccess_key_id = ${KEY_A.id}\naccess_key_secret = ${KEY_A.secret}\n`,
  );
  const { env } = isolate({ ALIBABA_CLOUD_CREDENTIALS_FILE: file });
  const found = await cli(checkConfigCommand, [], cwd, env);
  assert.equal(found.code, 0, found.out);
  assert.match(found.out, /^credentials: default chain: profile$/m);
  assert.ok(!found.out.includes(KEY_A.secret) && !found.out.includes(KEY_A.id));

  const none = isolate();
  const refused = await cli(startCommand, ['--config', join(cwd, 'config')], cwd, none.env);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /SMQ consumers are declared but no account credential was found/);
});

function secretsOf(triple: StsTriple): string[] {
  return [triple.accessKeySecret, triple.securityToken];
}
