import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { ConsumerConfig, CredentialsConfig, SmqConfig } from '../../src/config/types.js';
import { accountCredentials, type AccountCredentials } from '../../src/credentials/account.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import type { Logger } from '../../src/observability/logger.js';
import { createConsumerClient } from '../../src/smq/client-pool.js';
import { MnsQueueClient } from '../../src/smq/mns-client.js';
import { TokenProvider } from '../../src/smq/token-provider.js';
import type { SmqCredentials } from '../../src/smq/types.js';
import { captureLogger } from '../handlers/helpers.js';

/** Two account keys, so a test can tell which one signed. */
export const KEY_A = { id: 'LTAI5tKeyAAAAAAAAAAAAAA1', secret: 'secret-A-aaaaaaaaaaaaaaaaaaaaaa' };
export const KEY_B = { id: 'LTAI5tKeyBBBBBBBBBBBBBB2', secret: 'secret-B-bbbbbbbbbbbbbbbbbbbbbb' };
export const NO_KEYS: CredentialsConfig = { accessKeyId: '', accessKeySecret: '', securityToken: '' };

export function startCloud(): Promise<EmulatorHandle> {
  return startEmulator({ port: 0, accessKeys: { [KEY_A.id]: KEY_A.secret, [KEY_B.id]: KEY_B.secret } });
}

/** An account credential with a logger whose lines a test can check for secrets. */
export function account(
  env: Readonly<Record<string, string | undefined>>,
  credentials: CredentialsConfig = NO_KEYS,
): { account: AccountCredentials; logger: Logger; lines: Record<string, unknown>[] } {
  const { logger, lines } = captureLogger('debug');
  return { account: accountCredentials({ credentials, env, logger, fileCheckIntervalMs: 0 }), logger, lines };
}

/** A token provider that refreshes whenever asked to, so a test decides when the next refresh happens. */
export function tokenProvider(emu: EmulatorHandle, creds: AccountCredentials, logger: Logger): TokenProvider {
  return new TokenProvider({
    endpoint: emu.endpoint,
    account: creds,
    minForcedRefreshIntervalMs: 0,
    failedRefreshRetryMs: 0,
    logger,
  });
}

/** Fetches an SMQ token (QueryTokenForMnsQueue signed with the account) and long-polls the queue with it. */
export async function pollWithToken(emu: EmulatorHandle, tokens: TokenProvider): Promise<SmqCredentials> {
  const queueName = emu.queues['ChatAppStatus'] as string;
  const creds = await tokens.get('ChatAppStatus', queueName);
  const client = new MnsQueueClient({
    endpoint: emu.endpoint,
    accountId: emu.accountId,
    credentials: creds,
    queueName,
  });
  assert.deepEqual(await client.receive(1, 0), []);
  return creds;
}

/** Forces the next `get` to refresh, then returns the AccessKeyId that signed that refresh. */
export async function refreshSigner(emu: EmulatorHandle, tokens: TokenProvider): Promise<string> {
  const queueName = emu.queues['ChatAppStatus'] as string;
  tokens.invalidate('ChatAppStatus', queueName);
  const before = emu.stats().tokenCallsBySigner;
  await pollWithToken(emu, tokens);
  const after = emu.stats().tokenCallsBySigner;
  const signers = Object.keys(after).filter(id => after[id] !== before[id]);
  assert.equal(signers.length, 1, `one refresh, signed once (${signers.length})`);
  return signers[0] as string;
}

/** `auth: 'static'`: SMQ signed directly with the account credential, through the production stack. */
export async function pollStatic(emu: EmulatorHandle, creds: AccountCredentials): Promise<void> {
  const consumer: ConsumerConfig = {
    file: 'queues/static.json',
    messageType: 'ChatAppStatus',
    queueName: emu.queues['ChatAppStatus'] as string,
    auth: 'static',
    endpoint: emu.endpoint,
    maxInFlight: 16,
    waitSeconds: 0,
    batchSize: 1,
  };
  const smq = { endpoint: emu.endpoint, accountId: emu.accountId } as SmqConfig;
  const client = createConsumerClient({ consumer, smq, account: creds });
  assert.deepEqual(await client.receive(1, 0), []);
}

/** No log line holds a secret: the given ones, any security token (`CAIS…`) or STS key id. */
export async function assertNoSecrets(
  lines: Record<string, unknown>[],
  secrets: readonly string[],
): Promise<void> {
  await tick();
  const text = lines.map(line => JSON.stringify(line)).join('\n');
  assert.ok(lines.length > 0, 'something was logged');
  for (const secret of secrets)
    assert.ok(!text.includes(secret), `a secret was logged: ${secret.slice(0, 6)}…`);
  assert.doesNotMatch(text, /CAIS|STS\.[A-Za-z0-9]{10}/);
}
