// The emulator's fake STS and ECS metadata service, over real HTTP: reply shapes, refusals, control.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { assumeRole, oidcToken } from '../helpers/cloud.js';
import { httpExchange } from '../helpers/http.js';
import { start } from './helpers.js';

const require = createRequire(import.meta.url);
const { RPCClient } = require('@alicloud/pop-core') as {
  RPCClient: new (config: Record<string, string>) => {
    request(action: string, params: Record<string, string>, opts: { method: string }): Promise<unknown>;
  };
};

const ROLE_ARN = 'acs:ram::1234567890123456:role/cams-receipts';
let emu: EmulatorHandle;

before(async () => {
  emu = await start();
});
after(() => emu.close());
beforeEach(() => emu.setRoleSessionTtl(undefined));

/** An unsigned STS call (AssumeRoleWithOIDC is one), as a form POST. */
async function sts(form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams({ Version: '2015-04-01', Format: 'JSON', ...form }).toString();
  const reply = await httpExchange(
    new URL(`${emu.endpoint}/`),
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    body,
  );
  return { status: reply.status, json: JSON.parse(reply.body) as Record<string, unknown> };
}

async function rejection(action: Promise<unknown>): Promise<string> {
  const err = (await action.catch((e: unknown) => e)) as { code?: string };
  return String(err.code);
}

describe('fake STS', () => {
  test('AssumeRole returns Credentials and AssumedRoleUser, expiring as asked', async () => {
    const client = new RPCClient({
      endpoint: emu.endpoint,
      apiVersion: '2015-04-01',
      accessKeyId: emu.accessKeyId,
      accessKeySecret: emu.accessKeySecret,
    });
    const reply = (await client.request(
      'AssumeRole',
      { RoleArn: ROLE_ARN, RoleSessionName: 'alice', DurationSeconds: '900' },
      { method: 'POST' },
    )) as { Credentials: Record<string, string>; AssumedRoleUser: Record<string, string> };
    assert.match(reply.Credentials['AccessKeyId'] ?? '', /^STS\.[A-Za-z0-9]{25}$/);
    assert.match(reply.Credentials['SecurityToken'] ?? '', /^CAIS/);
    const expiresInMs = Date.parse(reply.Credentials['Expiration'] ?? '') - Date.now();
    assert.ok(expiresInMs > 890_000 && expiresInMs <= 900_000, `${expiresInMs}`);
    assert.match(reply.Credentials['Expiration'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(reply.AssumedRoleUser['Arn'], `${ROLE_ARN}/alice`);
    assert.match(reply.AssumedRoleUser['AssumedRoleId'] ?? '', /^\d+:alice$/);
  });

  test('AssumeRole refuses a wrong signature, an unknown key, a bad ARN or duration', async () => {
    const signed = (secret: string, id = emu.accessKeyId) =>
      new RPCClient({
        endpoint: emu.endpoint,
        apiVersion: '2015-04-01',
        accessKeyId: id,
        accessKeySecret: secret,
      });
    const call = (secret: string, params: Record<string, string>, id?: string) =>
      rejection(signed(secret, id).request('AssumeRole', params, { method: 'POST' }));
    const ok = { RoleArn: ROLE_ARN, RoleSessionName: 'alice' };
    assert.equal(await call('wrong', ok), 'SignatureDoesNotMatch');
    assert.equal(await call('x', ok, 'LTAI-unknown'), 'InvalidAccessKeyId.NotFound');
    assert.equal(await call(emu.accessKeySecret, { ...ok, RoleArn: 'role/x' }), 'InvalidParameter.RoleArn');
    const tooShort = { ...ok, DurationSeconds: '60' };
    assert.equal(await call(emu.accessKeySecret, tooShort), 'InvalidParameter.DurationSeconds');
  });

  test('a role session may assume a role in turn, with its token; an expired one may not', async () => {
    const triple = await assumeRole(emu.endpoint, emu.accessKeyId, emu.accessKeySecret);
    const chained = new RPCClient({ endpoint: emu.endpoint, apiVersion: '2015-04-01', ...triple });
    const params = { RoleArn: ROLE_ARN, RoleSessionName: 'chained' };
    assert.ok(await chained.request('AssumeRole', params, { method: 'POST' }));
    assert.ok(emu.expireRoleSessions() >= 1);
    const again = chained.request('AssumeRole', params, { method: 'POST' });
    assert.equal(await rejection(again), 'InvalidSecurityToken.Expired');
  });

  test('AssumeRoleWithOIDC reads the token claims; malformed or expired tokens are refused', async () => {
    const form = {
      Action: 'AssumeRoleWithOIDC',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'pod',
      OIDCProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
    };
    const ok = await sts({ ...form, OIDCToken: oidcToken('system:serviceaccount:ns:sa') });
    assert.equal(ok.status, 200);
    assert.match(String((ok.json['Credentials'] as Record<string, string>)['AccessKeyId']), /^STS\./);
    assert.equal(
      (ok.json['OIDCTokenInfo'] as Record<string, string>)['Subject'],
      'system:serviceaccount:ns:sa',
    );
    assert.equal(emu.stats().sts.oidcSubjects.at(-1), 'system:serviceaccount:ns:sa');
    for (const [token, code] of [
      ['not-a-jwt', 'InvalidParameter.OIDCToken'],
      [oidcToken('sub', -5), 'AuthenticationFail.OIDCToken.Expired'],
    ]) {
      const refused = await sts({ ...form, OIDCToken: token as string });
      assert.equal(refused.status, 400);
      assert.equal(refused.json['Code'], code);
    }
    const noProvider = await sts({ ...form, OIDCProviderArn: '', OIDCToken: oidcToken('s') });
    assert.equal(noProvider.json['Code'], 'InvalidParameter.OIDCProviderArn');
  });

  test('control: GET/PUT /_emulator/sts sets the session lifetime; POST /_emulator/sts/expire', async () => {
    const put = await httpExchange(
      new URL(`${emu.endpoint}/_emulator/sts`),
      { method: 'PUT' },
      '{"ttlSeconds":30}',
    );
    assert.equal((JSON.parse(put.body) as { ttlSeconds: number }).ttlSeconds, 30);
    const triple = await assumeRole(emu.endpoint, emu.accessKeyId, emu.accessKeySecret);
    assert.ok(triple.accessKeyId.startsWith('STS.'));
    const expired = await httpExchange(new URL(`${emu.endpoint}/_emulator/sts/expire`), { method: 'POST' });
    assert.ok((JSON.parse(expired.body) as { expired: number }).expired >= 1);
    const bad = await httpExchange(
      new URL(`${emu.endpoint}/_emulator/sts`),
      { method: 'PUT' },
      '{"ttlSeconds":0}',
    );
    assert.equal(bad.status, 400);
  });
});

describe('fake ECS metadata service', () => {
  const path = '/latest/meta-data/ram/security-credentials/';

  test('IMDSv2 token, role name, credentials; the same session until it nears expiry', async () => {
    const token = await httpExchange(new URL(`${emu.endpoint}/latest/api/token`), {
      method: 'PUT',
      headers: { 'x-aliyun-ecs-metadata-token-ttl-seconds': '300' },
    });
    assert.equal(token.status, 200);
    const headers = { 'x-aliyun-ecs-metadata-token': token.body };
    const role = await httpExchange(new URL(`${emu.endpoint}${path}`), { method: 'GET', headers });
    assert.equal(role.body, emu.ecsRoleName);
    const get = async () =>
      JSON.parse(
        (await httpExchange(new URL(`${emu.endpoint}${path}${role.body}`), { method: 'GET' })).body,
      ) as Record<string, string>;
    const first = await get();
    assert.equal(first['Code'], 'Success');
    assert.match(first['AccessKeyId'] ?? '', /^STS\./);
    assert.match(first['Expiration'] ?? '', /Z$/);
    assert.equal((await get())['AccessKeyId'], first['AccessKeyId']);
    emu.expireRoleSessions();
    assert.notEqual((await get())['AccessKeyId'], first['AccessKeyId'], 'rotated once revoked');
  });

  test('an unknown role is 404, a bad IMDSv2 token 401, a token request without TTL 400', async () => {
    const unknown = await httpExchange(new URL(`${emu.endpoint}${path}other-role`), { method: 'GET' });
    assert.equal(unknown.status, 404);
    const badToken = await httpExchange(new URL(`${emu.endpoint}${path}`), {
      method: 'GET',
      headers: { 'x-aliyun-ecs-metadata-token': 'forged' },
    });
    assert.equal(badToken.status, 401);
    const noTtl = await httpExchange(new URL(`${emu.endpoint}/latest/api/token`), { method: 'PUT' });
    assert.equal(noTtl.status, 400);
  });
});
