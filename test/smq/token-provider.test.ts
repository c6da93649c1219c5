import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { formatShanghaiTime, startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { TokenError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MnsQueueClient } from '../../src/smq/mns-client.js';
import { accountCredentials, type AccountCredentials } from '../../src/credentials/account.js';
import {
  TokenProvider,
  accountSource,
  parseExpireTime,
  type TokenProviderOptions,
} from '../../src/smq/token-provider.js';

let emu: EmulatorHandle;
let queueName: string;

before(async () => {
  emu = await startEmulator({ port: 0 });
  queueName = emu.queues['ChatAppStatus']!;
});
after(() => emu.close());
beforeEach(() => {
  emu.reset();
  emu.setTokenTtl(600);
});

function key(accessKeySecret = emu.accessKeySecret): AccountCredentials {
  return accountCredentials({
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret, securityToken: '' },
    env: {},
    logger: silentLogger(),
  });
}

function provider(overrides: Partial<TokenProviderOptions> = {}): TokenProvider {
  return new TokenProvider({ endpoint: emu.endpoint, account: key(), logger: silentLogger(), ...overrides });
}

function issued(): number {
  return emu.stats().tokensIssued;
}

test('ExpireTime is read as UTC+8 wall-clock time', () => {
  assert.equal(parseExpireTime('2026-01-01 08:00:00'), Date.UTC(2026, 0, 1, 0, 0, 0));
  assert.equal(parseExpireTime('2026-03-01 03:30:15'), Date.UTC(2026, 1, 28, 19, 30, 15));
  const now = Math.floor(Date.now() / 1000) * 1000;
  assert.equal(parseExpireTime(formatShanghaiTime(now)), now);
  assert.throws(() => parseExpireTime('2026/01/01 08:00'), RangeError);
});

test('a token is fetched once, cached, and signs SMQ calls', async () => {
  const tokens = provider();
  const before = issued();
  const creds = await tokens.get('ChatAppStatus', queueName);
  assert.match(creds.accessKeyId, /^STS\./);
  assert.ok(creds.securityToken);
  const ttlMs = creds.expireAtMs! - Date.now();
  assert.ok(ttlMs > 590_000 && ttlMs <= 600_000, `expires in ${ttlMs} ms`);
  assert.equal(await tokens.get('ChatAppStatus', queueName), creds);
  assert.equal(issued() - before, 1);
  const client = new MnsQueueClient({
    endpoint: emu.endpoint,
    accountId: emu.accountId,
    credentials: creds,
    queueName,
  });
  assert.deepEqual(await client.receive(1, 0), []);
  assert.equal(tokens.status()[0]?.expireAtMs, creds.expireAtMs);
});

test('50 concurrent callers cause one token call', async () => {
  const tokens = provider();
  const before = issued();
  const all = await Promise.all(Array.from({ length: 50 }, () => tokens.get('ChatAppStatus', queueName)));
  assert.equal(issued() - before, 1);
  assert.ok(all.every(c => c === all[0]));
});

test('a token is refreshed before it expires (short TTL: at half its life)', async () => {
  emu.setTokenTtl(3);
  const tokens = provider();
  let refreshes = 0;
  tokens.on('token_refreshed', () => (refreshes += 1));
  const first = await tokens.get('ChatAppStatus', queueName);
  await delay(1_600);
  const second = await tokens.get('ChatAppStatus', queueName);
  assert.notEqual(second.securityToken, first.securityToken);
  assert.ok(Date.now() < first.expireAtMs!, 'refreshed while the old token was still valid');
  assert.equal(refreshes, 2);
  const client = new MnsQueueClient({
    endpoint: emu.endpoint,
    accountId: emu.accountId,
    credentials: second,
    queueName,
  });
  assert.deepEqual(await client.receive(1, 0), []);
});

test('invalidate forces one refresh, and repeated auth errors do not hammer the token API', async () => {
  const tokens = provider({ minForcedRefreshIntervalMs: 60_000 });
  const before = issued();
  const first = await tokens.get('ChatAppStatus', queueName);
  assert.equal(tokens.invalidate('ChatAppStatus', queueName, first), true);
  const second = await tokens.get('ChatAppStatus', queueName);
  assert.notEqual(second.securityToken, first.securityToken);
  assert.equal(tokens.invalidate('ChatAppStatus', queueName, first), false, 'already replaced');
  assert.equal(tokens.invalidate('ChatAppStatus', queueName, second), false, 'rate-limited');
  await Promise.all(Array.from({ length: 10 }, () => tokens.get('ChatAppStatus', queueName)));
  assert.equal(issued() - before, 2);
});

test('token failures are TokenErrors with a class and no secrets', async () => {
  const wrong = provider({ account: key('not-the-secret') });
  const auth = await wrong.get('ChatAppStatus', queueName).catch((e: unknown) => e);
  assert.ok(auth instanceof TokenError);
  assert.equal(auth.errorClass, 'auth');
  assert.doesNotMatch(auth.message, /not-the-secret|Signature=/);
  const down = provider({ endpoint: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
  const network = await down.get('ChatAppStatus', queueName).catch((e: unknown) => e);
  assert.ok(network instanceof TokenError);
  assert.equal(network.errorClass, 'network');
  assert.doesNotMatch(network.message, /Signature=|AccessKeyId=/);
  emu.setFaults({ throttleRatio: 1, actions: ['QueryTokenForMnsQueue'] });
  const throttled = await provider()
    .get('ChatAppStatus', queueName)
    .catch((e: unknown) => e);
  assert.equal((throttled as TokenError).errorClass, 'throttled');
});

test('when a refresh fails the still-valid token is kept, without retrying on every call', async () => {
  emu.setTokenTtl(3);
  const tokens = provider({ failedRefreshRetryMs: 60_000 });
  const first = await tokens.get('ChatAppStatus', queueName);
  emu.setFaults({ serverErrorRatio: 1, actions: ['QueryTokenForMnsQueue'] });
  await delay(1_600);
  const before = emu.stats().faults.serverErrors;
  assert.equal(await tokens.get('ChatAppStatus', queueName), first);
  assert.equal(await tokens.get('ChatAppStatus', queueName), first);
  assert.equal(emu.stats().faults.serverErrors - before, 1, 'one failed attempt, then the old token');
  assert.equal(tokens.status()[0]?.lastErrorClass, 'server');
});

test('a configured key signs SMQ as it is: never expires, ignores invalidation', async () => {
  const creds = accountSource(key());
  const a = await creds.credentials();
  assert.deepEqual(a, {
    accessKeyId: emu.accessKeyId,
    accessKeySecret: emu.accessKeySecret,
    securityToken: undefined,
  });
  assert.equal(creds.invalidate(a), false);
  assert.equal(await creds.credentials(), a, 'the same object while nothing changed');
});
