import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { SmqError } from '../../src/errors.js';
import { MnsQueueClient } from '../../src/smq/mns-client.js';

let emu: EmulatorHandle;
let queueName: string;

before(async () => {
  emu = await startEmulator({ port: 0 });
  queueName = emu.queues['ChatAppStatus']!;
});
after(() => emu.close());
beforeEach(() => emu.reset());

function client(overrides: { secret?: string; queue?: string } = {}): MnsQueueClient {
  return new MnsQueueClient({
    endpoint: `${emu.endpoint}/`,
    accountId: emu.accountId,
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: overrides.secret ?? emu.accessKeySecret },
    queueName: overrides.queue ?? queueName,
  });
}

async function failure(promise: Promise<unknown>): Promise<SmqError> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SmqError, String(err));
  return err;
}

test('receive returns typed messages; an empty queue gives []', async () => {
  await emu.inject({ queueName, bodies: ['one', 'two', 'three'] });
  const c = client();
  const messages = await c.receive(2, 1);
  assert.equal(messages.length, 2);
  const [m] = messages;
  assert.equal(m?.body, 'one');
  assert.equal(typeof m?.enqueueTimeMs, 'number');
  assert.ok(m!.nextVisibleTimeMs > Date.now());
  assert.equal(m?.dequeueCount, 1);
  assert.match(m!.bodyMd5, /^[0-9A-F]{32}$/);
  assert.equal((await c.receive(16, 0)).length, 1);
  assert.deepEqual(await c.receive(16, 0), []);
});

test('changeVisibility returns a new handle; deleteBatch reports stale and bad handles per entry', async () => {
  await emu.inject({ queueName, bodies: ['a', 'b'] });
  const c = client();
  const [a, b] = await c.receive(16, 1);
  assert.ok(a && b);
  const moved = await c.changeVisibility(a.receiptHandle, 60);
  assert.notEqual(moved.receiptHandle, a.receiptHandle);
  assert.ok(moved.nextVisibleTimeMs > Date.now() + 50_000);
  const stale = await failure(c.changeVisibility(a.receiptHandle, 60));
  assert.equal(stale.smqCode, 'MessageNotExist');
  const failures = await c.deleteBatch([a.receiptHandle, moved.receiptHandle, b.receiptHandle, 'x-bogus']);
  assert.deepEqual(
    failures.map(f => [f.receiptHandle, f.errorCode]),
    [
      [a.receiptHandle, 'MessageNotExist'],
      ['x-bogus', 'ReceiptHandleError'],
    ],
  );
  assert.deepEqual(await c.deleteBatch([]), []);
  const stats = emu.stats().queues[queueName]!;
  assert.equal(stats.deleted, 2);
});

test('aborting a long poll returns [] promptly, and the client keeps working', async () => {
  const c = client();
  const ac = new AbortController();
  const started = Date.now();
  const pending = c.receive(16, 20, ac.signal);
  setTimeout(() => ac.abort(), 100);
  assert.deepEqual(await pending, []);
  assert.ok(Date.now() - started < 5_000, 'the 20 s long poll was cut short');
  // Let the server see the closed connection, so it does not hand the next message to the dead poll.
  await delay(200);
  assert.equal(emu.stats().queues[queueName]?.received, 0);
  await emu.inject({ queueName, bodies: ['after'] });
  assert.equal((await c.receive(1, 1))[0]?.body, 'after');
});

test('polls sharing one AbortSignal do not pile up listeners on it', async () => {
  const c = client();
  const ac = new AbortController();
  await emu.inject({ queueName, bodies: Array.from({ length: 20 }, (_, i) => `m${i}`) });
  for (let i = 0; i < 20; i += 1) assert.equal((await c.receive(1, 0, ac.signal)).length, 1);
  assert.ok(getEventListeners(ac.signal, 'abort').length <= 1);
});

test('failures are SmqErrors with the class the loop needs', async () => {
  assert.equal((await failure(client({ secret: 'wrong' }).receive(1, 0))).errorClass, 'auth');
  const missing = await failure(client({ queue: 'No-Such-Queue' }).receive(1, 0));
  assert.deepEqual([missing.errorClass, missing.smqCode], ['queue_missing', 'QueueNotExist']);
  emu.setFaults({ throttleRatio: 1 });
  assert.equal((await failure(client().receive(1, 0))).errorClass, 'throttled');
  emu.setFaults({ serverErrorRatio: 1 });
  assert.equal((await failure(client().deleteBatch(['h']))).errorClass, 'server');
  emu.setFaults({ dropConnectionRatio: 1 });
  await emu.inject({ queueName, bodies: ['x'] });
  assert.equal((await failure(client().receive(1, 0))).errorClass, 'network');
  emu.setFaults({});
  const unreachable = new MnsQueueClient({
    endpoint: 'http://127.0.0.1:1',
    accountId: '1',
    credentials: { accessKeyId: 'a', accessKeySecret: 'b' },
    queueName,
  });
  assert.equal((await failure(unreachable.receive(1, 0))).errorClass, 'network');
});
