import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { SmqError } from '../../src/errors.js';
import { CredentialedQueueClient } from '../../src/smq/client-pool.js';
import type { CredentialSource } from '../../src/smq/token-provider.js';
import type { SmqCredentials, SmqQueueClient } from '../../src/smq/types.js';
import { FakeQueue } from './fake-queue.js';

/** Hands out numbered tokens; `rotate` makes the next call return a new one. */
class RotatingTokens implements CredentialSource {
  current: SmqCredentials = { accessKeyId: 'STS.1', accessKeySecret: 's', securityToken: 't1' };
  invalidated: SmqCredentials[] = [];
  #n = 1;
  credentials(): Promise<SmqCredentials> {
    return Promise.resolve(this.current);
  }
  invalidate(failed: SmqCredentials): boolean {
    this.invalidated.push(failed);
    this.rotate();
    return true;
  }
  rotate(): void {
    this.#n += 1;
    this.current = { accessKeyId: `STS.${this.#n}`, accessKeySecret: 's', securityToken: `t${this.#n}` };
  }
}

test('rebuilds the client only when the credentials change', async () => {
  const tokens = new RotatingTokens();
  const built: string[] = [];
  const queue = new FakeQueue();
  const client = new CredentialedQueueClient({
    credentials: tokens,
    create: creds => {
      built.push(creds.accessKeyId);
      return queue;
    },
  });
  await client.receive(1, 0);
  await client.deleteBatch([]);
  tokens.rotate();
  await client.receive(1, 0);
  assert.deepEqual(built, ['STS.1', 'STS.2']);
});

test('an auth rejection invalidates the token that failed and is rethrown for the loop', async () => {
  const tokens = new RotatingTokens();
  const queue = new FakeQueue();
  queue.failNext('receive', new SmqError('expired', 'auth', 'SecurityTokenExpired'));
  queue.failNext('receive', new SmqError('slow down', 'throttled', 'TooManyRequests'));
  const client = new CredentialedQueueClient({ credentials: tokens, create: () => queue });
  await assert.rejects(client.receive(1, 0), (e: SmqError) => e.errorClass === 'auth');
  assert.deepEqual(
    tokens.invalidated.map(c => c.securityToken),
    ['t1'],
  );
  await assert.rejects(client.receive(1, 0), (e: SmqError) => e.errorClass === 'throttled');
  assert.equal(tokens.invalidated.length, 1, 'only auth errors invalidate');
});

test('an abort while the token call hangs ends the receive with [] and leaves no listener behind', async () => {
  const hanging: CredentialSource = { credentials: () => new Promise(() => {}), invalidate: () => false };
  const unused: SmqQueueClient = new FakeQueue();
  const client = new CredentialedQueueClient({ credentials: hanging, create: () => unused });
  const ac = new AbortController();
  const pending = client.receive(16, 30, ac.signal);
  ac.abort();
  assert.deepEqual(await pending, []);
  const ok = new CredentialedQueueClient({
    credentials: new RotatingTokens(),
    create: () => new FakeQueue(),
  });
  const shared = new AbortController();
  for (let i = 0; i < 20; i += 1) await ok.receive(1, 0, shared.signal);
  assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
});
