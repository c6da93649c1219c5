import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  control,
  errorCode,
  keyClient,
  rawMns,
  rejection,
  start,
  stsClient,
  tokenClient,
  type Message,
  type MnsClient,
} from './helpers.js';

const Q = 'faulty';

let emulator: EmulatorHandle;
let client: MnsClient;

before(async () => {
  emulator = await start({ queues: { ChatAppStatus: Q } });
  client = keyClient(emulator);
});

afterEach(() => {
  emulator.setFaults({});
});

after(() => emulator.close());

test('throttleRatio 1: every call gets 429 TooManyRequests and nothing is performed', async () => {
  emulator.setFaults({ throttleRatio: 1 });
  const err = await rejection(client.sendMessage(Q, { MessageBody: 'x' }));
  assert.equal(err.name, 'MNSTooManyRequestsError');
  assert.match(err.message, /failed with 429/);
  assert.equal(emulator.stats().queues[Q]?.sent, 0);
  assert.equal(emulator.stats().faults.throttled, 1);
});

test('serverErrorRatio 1 gives 500 InternalError; the token RPC gets a POP error', async () => {
  emulator.setFaults({ serverErrorRatio: 1 });
  const err = await rejection(client.getQueueAttributes(Q));
  assert.equal(err.name, 'MNSInternalErrorError');
  assert.match(err.message, /failed with 500/);
  const rpc = await rejection(tokenClient(emulator).queryTokenForMnsQueue({ MessageType: 'ChatAppStatus' }));
  assert.equal(rpc.code, 'ServiceUnavailable');
});

test('a share of faults hits roughly that share of requests', async () => {
  emulator.setFaults({ serverErrorRatio: 0.5 });
  let failed = 0;
  for (let i = 0; i < 100; i += 1) {
    const res = await rawMns(emulator, { method: 'GET', path: `/queues/${Q}` });
    if (res.status === 500) failed += 1;
    else assert.equal(res.status, 200);
  }
  assert.ok(failed > 20 && failed < 80, `${failed} of 100 failed`);
});

test('actions limits faults to the named operations', async () => {
  emulator.setFaults({ throttleRatio: 1, actions: ['BatchReceiveMessage'] });
  await client.sendMessage(Q, { MessageBody: 'still-sent' });
  assert.equal((await rejection(client.batchReceiveMessage(Q, 16))).name, 'MNSTooManyRequestsError');
  emulator.setFaults({});
  const msgs = (await client.batchReceiveMessage(Q, 16)).body as Message[];
  await client.batchDeleteMessage(
    Q,
    msgs.map(m => m['ReceiptHandle']),
  );
});

test('dropConnectionRatio 1: the reply is cut mid-flight, after the operation ran', async () => {
  await client.sendMessage(Q, { MessageBody: 'dropped-reply' });
  emulator.setFaults({ dropConnectionRatio: 1, actions: ['ReceiveMessage'] });
  const err = await rejection(client.receiveMessage(Q));
  assert.doesNotMatch(err.name, /^MNS/, `a transport error, got ${err.name}: ${err.message}`);
  assert.equal(emulator.stats().queues[Q]?.inFlight, 1, 'the receive happened; the message is now in flight');
  assert.equal(emulator.stats().faults.dropped, 1);
  emulator.setFaults({});
  const res = await client.peekMessage(Q).catch((e: Error) => e);
  assert.ok(res instanceof Error, 'the message stays invisible until its visibility timeout');
});

test('latencyMs delays answers, and a long poll still ends before waitseconds', async () => {
  await client.createQueue('faulty-empty', {});
  emulator.setFaults({ latencyMs: 300 });
  const t0 = Date.now();
  await client.getQueueAttributes(Q);
  assert.ok(Date.now() - t0 >= 290, 'answer was delayed');
  const t1 = Date.now();
  assert.equal((await rejection(client.receiveMessage('faulty-empty', 1))).name, 'MNSMessageNotExistError');
  const poll = Date.now() - t1;
  // The server answers at 1000 − 50 ms including the 300 ms latency; without subtracting the latency it
  // would answer at about 1250 ms. The upper bound leaves room for a busy machine.
  assert.ok(poll >= 290 && poll < 1200, `long poll with latency answered after ${poll} ms`);
});

test('tokenEarlyExpirySeconds makes tokens die before their advertised ExpireTime', async () => {
  const { MessageTokenDTO: dto } = await tokenClient(emulator).queryTokenForMnsQueue({
    MessageType: 'ChatAppStatus',
  });
  const sts = stsClient(emulator, dto);
  assert.equal((await sts.getQueueAttributes(Q)).code, 200);
  emulator.setFaults({ tokenEarlyExpirySeconds: 3600 });
  assert.equal((await rejection(sts.getQueueAttributes(Q))).name, 'MNSSecurityTokenExpiredError');
});

test('faults are settable over the control API, PATCH merges and PUT replaces', async () => {
  const patched = await control(emulator, 'PATCH', '/faults', { throttleRatio: 1 });
  assert.equal(patched.status, 200);
  await control(emulator, 'PATCH', '/faults', { latencyMs: 5 });
  const current = (await control(emulator, 'GET', '/faults')).json as Record<string, unknown>;
  assert.equal(current['throttleRatio'], 1);
  assert.equal(current['latencyMs'], 5);
  const res = await rawMns(emulator, { method: 'GET', path: `/queues/${Q}` });
  assert.equal(res.status, 429);
  assert.equal(errorCode(res.body), 'TooManyRequests');
  await control(emulator, 'PUT', '/faults', { latencyMs: 1 });
  const replaced = (await control(emulator, 'GET', '/faults')).json as Record<string, unknown>;
  assert.equal(replaced['throttleRatio'], 0);
  const bad = await control(emulator, 'PUT', '/faults', { throttleRatio: 2 });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: string }).error, /throttleRatio/);
});
