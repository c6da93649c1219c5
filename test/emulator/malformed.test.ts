import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  errorCode,
  keyClient,
  rawHttp,
  rawMns,
  rejection,
  start,
  type Message,
  type MnsClient,
} from './helpers.js';

const Q = 'bad-input';
const NS = 'xmlns="http://mns.aliyuncs.com/doc/v1/"';

let emulator: EmulatorHandle;
let client: MnsClient;

before(async () => {
  emulator = await start({ queues: [] });
  client = keyClient(emulator);
  await client.createQueue(Q, {});
});

after(() => emulator.close());

/** After each abuse the emulator must still serve an ordinary round trip. */
async function stillServing(): Promise<void> {
  await client.sendMessage(Q, { MessageBody: 'alive' });
  const m = (await client.receiveMessage(Q)).body as Message;
  assert.equal(m['MessageBody'], 'alive');
  await client.deleteMessage(Q, m['ReceiptHandle']);
}

test('an unescaped body from the node client is MalformedXML, as on the real service', async () => {
  const err = await rejection(client.sendMessage(Q, { MessageBody: 'a<b & c' }));
  assert.equal(err.name, 'MNSMalformedXMLError');
  assert.match(err.message, /failed with 400/);
  await stillServing();
});

test('broken XML in every body-carrying operation gives MalformedXML', async () => {
  const cases: [string, string, string][] = [
    ['POST', `/queues/${Q}/messages`, `<Message ${NS}><MessageBody>x</Message>`],
    ['POST', `/queues/${Q}/messages`, `<Messages ${NS}><Message><MessageBody>x</MessageBody></Message>`],
    ['DELETE', `/queues/${Q}/messages`, `<ReceiptHandles ${NS}><ReceiptHandle>1-a</ReceiptHandles>`],
    ['PUT', `/queues/${Q}?metaoverride=true`, `<Queue ${NS}><DelaySeconds>1</Queue>`],
    ['POST', `/queues/${Q}/messages`, 'not xml at all'],
    ['POST', `/queues/${Q}/messages`, `<Message ${NS}><MessageBody>&bogus;</MessageBody></Message>`],
    ['POST', `/queues/${Q}/messages`, `<Wrong ${NS}><MessageBody>x</MessageBody></Wrong>`],
  ];
  for (const [method, path, body] of cases) {
    const res = await rawMns(emulator, { method, path, body });
    assert.equal(res.status, 400, `${method} ${path} ${body}`);
    assert.equal(errorCode(res.body), 'MalformedXML', body);
  }
  await stillServing();
});

test('a well-formed body with escapes, CDATA and no namespace is accepted', async () => {
  const body = `<?xml version="1.0"?><Message><MessageBody><![CDATA[a<b]]> &amp; &#x4E2D;</MessageBody><Priority>2</Priority></Message>`;
  const res = await rawMns(emulator, { method: 'POST', path: `/queues/${Q}/messages`, body });
  assert.equal(res.status, 201);
  const m = (await client.receiveMessage(Q)).body as Message;
  assert.equal(m['MessageBody'], 'a<b & 中');
  assert.equal(m['Priority'], '2');
  await client.deleteMessage(Q, m['ReceiptHandle']);
});

test('bodies over 64 KB: a 65537-byte message and a 300 KB request are InvalidArgument', async () => {
  const big = await rejection(client.sendMessage(Q, { MessageBody: 'x'.repeat(65537) }));
  assert.equal(big.name, 'MNSInvalidArgumentError');
  const huge = `<Message ${NS}><MessageBody>${'y'.repeat(300 * 1024)}</MessageBody></Message>`;
  const res = await rawMns(emulator, { method: 'POST', path: `/queues/${Q}/messages`, body: huge });
  assert.equal(res.status, 400);
  assert.equal(errorCode(res.body), 'InvalidArgument');
  const batch = Array.from({ length: 5 }, () => ({ MessageBody: 'z'.repeat(15000) }));
  assert.equal((await rejection(client.batchSendMessage(Q, batch))).name, 'MNSInvalidArgumentError');
  await stillServing();
});

test('wrong parameters give InvalidArgument with the real statuses', async () => {
  assert.equal((await rejection(client.batchReceiveMessage(Q, 17))).name, 'MNSInvalidArgumentError');
  assert.equal((await rejection(client.batchReceiveMessage(Q, 0))).name, 'MNSInvalidArgumentError');
  assert.equal((await rejection(client.batchReceiveMessage(Q, 'abc'))).name, 'MNSInvalidArgumentError');
  assert.equal((await rejection(client.receiveMessage(Q, 31))).name, 'MNSInvalidArgumentError');
  assert.equal((await rejection(client.batchPeekMessage(Q, 20))).name, 'MNSInvalidArgumentError');
  assert.equal(
    (await rejection(client.sendMessage(Q, { MessageBody: 'x', Priority: 17 }))).name,
    'MNSInvalidArgumentError',
  );
  assert.equal(
    (await rejection(client.sendMessage(Q, { MessageBody: 'x', DelaySeconds: -1 }))).name,
    'MNSInvalidArgumentError',
  );
  assert.equal((await rejection(client.sendMessage(Q, { Priority: 1 }))).name, 'MNSInvalidArgumentError');
  const seventeen = Array.from({ length: 17 }, () => ({ MessageBody: 'x' }));
  assert.equal((await rejection(client.batchSendMessage(Q, seventeen))).name, 'MNSInvalidArgumentError');
  assert.equal(
    (
      await rejection(
        client.batchDeleteMessage(
          Q,
          Array.from({ length: 17 }, () => '1-a-b'),
        ),
      )
    ).name,
    'MNSInvalidArgumentError',
  );
  const missing = await rawMns(emulator, {
    method: 'PUT',
    path: `/queues/${Q}/messages?receiptHandle=1-a-bcdefgh`,
  });
  assert.equal(errorCode(missing.body), 'MissingVisibilityTimeout');
  await stillServing();
});

test('BatchSendMessage with one bad entry sends the others and reports the entry in place', async () => {
  await client.createQueue('partial-send', {});
  const res = await client.batchSendMessage('partial-send', [
    { MessageBody: 'ok-1' },
    { MessageBody: 'bad', Priority: 99 },
    { MessageBody: 'ok-2' },
  ]);
  assert.equal(res.code, 500);
  const items = res.body as Message[];
  assert.deepEqual(Object.keys(items[0] as Message).sort(), ['MessageBodyMD5', 'MessageId']);
  assert.deepEqual(Object.keys(items[1] as Message).sort(), ['ErrorCode', 'ErrorMessage']);
  assert.equal(items[1]?.['ErrorCode'], 'InvalidArgument');
  assert.equal(emulator.stats().queues['partial-send']?.sent, 2);
});

test('unknown queues, unknown paths and unsupported methods', async () => {
  assert.equal((await rejection(client.receiveMessage('no-such-queue'))).name, 'MNSQueueNotExistError');
  assert.equal(
    (await rejection(client.batchDeleteMessage('no-such-queue', ['1-a-b']))).name,
    'MNSQueueNotExistError',
  );
  const topic = await rawMns(emulator, { method: 'GET', path: '/topics/t1' });
  assert.equal(topic.status, 400);
  assert.equal(errorCode(topic.body), 'InvalidRequestURL');
  const post = await rawMns(emulator, { method: 'POST', path: `/queues/${Q}`, body: '<Queue/>' });
  assert.equal(errorCode(post.body), 'InvalidRequestURL');
  const deep = await rawMns(emulator, { method: 'GET', path: `/queues/${Q}/messages/extra` });
  assert.equal(errorCode(deep.body), 'InvalidRequestURL');
  await stillServing();
});

test('garbage on the socket and an aborted upload do not take the server down', async () => {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1', () => {
      socket.write(
        `POST /queues/${Q}/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n<Message>`,
      );
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const control = await rawHttp(emulator, 'GET', '/_emulator/stats');
  assert.equal(control.status, 200);
  await stillServing();
});
