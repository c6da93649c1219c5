// Role credentials through the library's default chain: a RAM role ARN (AssumeRole), an OIDC role
// ARN (AssumeRoleWithOIDC, RRSA) and the ECS instance RAM role, against the emulator's fake STS and
// metadata service. Sessions are made short so that renewal happens within a test.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import type { EmulatorHandle, StsStats } from '../../src/emulator/index.js';
import { TokenError } from '../../src/errors.js';
import { isolateCredentialEnv, oidcToken, routeCloudHostsTo } from '../helpers/cloud.js';
import { tempDir } from '../config/fixtures.js';
import {
  KEY_A,
  account,
  assertNoSecrets,
  pollStatic,
  refreshSigner,
  startCloud,
  tokenProvider,
} from './helpers.js';

const ROLE_ARN = 'acs:ram::1234567890123456:role/cams-receipts';
const PROVIDER_ARN = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1';

let emu: EmulatorHandle;
let unroute = (): void => undefined;
let restore = (): void => undefined;

before(async () => {
  emu = await startCloud();
  unroute = routeCloudHostsTo(emu.endpoint);
});
after(async () => {
  unroute();
  await emu.close();
});
beforeEach(() => {
  // Shorter than the library's 15-minute refresh window: every resolution renews the session.
  emu.setRoleSessionTtl(60);
});
afterEach(() => restore());

function isolate(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  restore(); // one isolation at a time, so the last restore brings back the real environment
  const isolated = isolateCredentialEnv(vars);
  restore = isolated.restore;
  return isolated.env;
}

/** What the ACK pod-identity webhook injects: the role, the OIDC provider and the projected token file. */
function rrsa(token: string): ReturnType<typeof account> & { tokenFile: string } {
  const tokenFile = join(tempDir(), 'token');
  writeFileSync(tokenFile, token);
  const env = isolate({
    ALIBABA_CLOUD_ROLE_ARN: ROLE_ARN,
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: PROVIDER_ARN,
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
  });
  return { ...account(env), tokenFile };
}

function issued(): StsStats['sessionsIssued'] {
  return emu.stats().sts.sessionsIssued;
}

test('RAM role ARN from a profile: AssumeRole signed with its AccessKey, renewed sessions', async () => {
  const file = join(tempDir(), 'credentials');
  writeFileSync(
    file,
    `[default]\ntype = ram_role_arn\naccess_key_id = ${KEY_A.id}\naccess_key_secret = ${KEY_A.secret}\n` +
      `role_arn = ${ROLE_ARN}\nrole_session_name = cams-receipts\n`,
  );
  const { account: creds, logger, lines } = account(isolate({ ALIBABA_CLOUD_CREDENTIALS_FILE: file }));
  const tokens = tokenProvider(emu, creds, logger);
  const before = issued().AssumeRole;
  const first = await refreshSigner(emu, tokens);
  assert.match(first, /^STS\./, 'QueryTokenForMnsQueue signed by the role session');
  assert.equal(creds.source(), 'default chain: profile');
  const second = await refreshSigner(emu, tokens);
  assert.match(second, /^STS\./);
  assert.notEqual(second, first, 'the renewed session signs the next refresh');
  assert.equal(issued().AssumeRole - before, 2);
  await pollStatic(emu, creds);
  await assertNoSecrets(lines, [KEY_A.secret]);
});

test('a revoked role session is dropped: the refresh after the rejection assumes the role again', async () => {
  emu.setRoleSessionTtl(3600);
  const file = join(tempDir(), 'credentials');
  writeFileSync(
    file,
    `[default]\ntype = ram_role_arn\naccess_key_id = ${KEY_A.id}\naccess_key_secret = ${KEY_A.secret}\n` +
      `role_arn = ${ROLE_ARN}\n`,
  );
  const { account: creds, logger, lines } = account(isolate({ ALIBABA_CLOUD_CREDENTIALS_FILE: file }));
  const tokens = tokenProvider(emu, creds, logger);
  const queueName = emu.queues['ChatAppStatus'] as string;
  const first = await refreshSigner(emu, tokens);
  assert.equal(await refreshSigner(emu, tokens), first, 'a live session is cached, not re-assumed');
  assert.ok(emu.expireRoleSessions() >= 1);
  tokens.invalidate('ChatAppStatus', queueName);
  await tokens.get('ChatAppStatus', queueName); // refused; the still-valid SMQ token is kept
  assert.equal(tokens.status()[0]?.lastErrorClass, 'auth');
  const renewed = await refreshSigner(emu, tokens);
  assert.notEqual(renewed, first);
  assert.equal(tokens.status()[0]?.lastErrorClass, undefined);
  assert.ok(lines.some(l => l['event'] === 'token_failed' && /Expired/.test(String(l['error']))));
  await assertNoSecrets(lines, [KEY_A.secret]);
});

test('OIDC role ARN (RRSA): AssumeRoleWithOIDC with the token file, read again when it rotates', async () => {
  const tokenA = oidcToken('system:serviceaccount:cams:receipts-a');
  const { tokenFile, account: creds, logger, lines } = rrsa(tokenA);
  const tokens = tokenProvider(emu, creds, logger);
  const before = issued().AssumeRoleWithOIDC;
  assert.match(await refreshSigner(emu, tokens), /^STS\./);
  assert.equal(creds.source(), 'default chain: oidc_role_arn');
  assert.equal(emu.stats().sts.oidcSubjects.at(-1), 'system:serviceaccount:cams:receipts-a');

  const tokenB = oidcToken('system:serviceaccount:cams:receipts-b');
  writeFileSync(tokenFile, tokenB); // the kubelet rotates the projected token
  await refreshSigner(emu, tokens);
  assert.equal(emu.stats().sts.oidcSubjects.at(-1), 'system:serviceaccount:cams:receipts-b');
  assert.equal(issued().AssumeRoleWithOIDC - before, 2);
  await pollStatic(emu, creds);
  await assertNoSecrets(lines, [tokenA, tokenB]);
});

test('an expired OIDC token is refused with the STS code, and the token is not logged', async () => {
  const expired = oidcToken('system:serviceaccount:cams:old', -60);
  const { account: creds, logger, lines } = rrsa(expired);
  const failed = await tokenProvider(emu, creds, logger)
    .get('ChatAppStatus', emu.queues['ChatAppStatus'] as string)
    .catch((e: unknown) => e);
  assert.ok(failed instanceof TokenError && failed.errorClass === 'auth', String(failed));
  assert.match(failed.message, /AuthenticationFail\.OIDCToken\.Expired/);
  assert.ok(!failed.message.includes(expired));
  await assertNoSecrets(lines, [expired]);
});

test('ECS instance RAM role: the role name and its credentials from the metadata service, renewed', async () => {
  emu.setRoleSessionTtl(120);
  const {
    account: creds,
    logger,
    lines,
  } = account(isolate({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: undefined }));
  const tokens = tokenProvider(emu, creds, logger);
  const before = issued().EcsMetadata;
  const first = await refreshSigner(emu, tokens);
  assert.match(first, /^STS\./);
  assert.equal(creds.source(), 'default chain: ecs_ram_role');
  assert.equal(issued().EcsMetadata - before, 1);
  await pollStatic(emu, creds);

  emu.expireRoleSessions(); // the instance's credentials rotate
  const second = await refreshSigner(emu, tokens);
  assert.notEqual(second, first, 'the next refresh is signed with the rotated credentials');
  assert.equal(issued().EcsMetadata - before, 2);
  await assertNoSecrets(lines, []);
});
