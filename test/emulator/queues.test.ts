import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { keyClient, rawMns, rejection, start, type Message, type MnsClient } from './helpers.js';

let emulator: EmulatorHandle;
let client: MnsClient;

before(async () => {
  emulator = await start({ queues: { ChatAppStatus: 'Alicom-Queue-1-ChatAppStatus' } });
  client = keyClient(emulator);
});

after(() => emulator.close());

test('CreateQueue answers 201 with a Location built from the Host header', async () => {
  const res = await client.createQueue('q-create', { VisibilityTimeout: 45 });
  assert.equal(res.code, 201);
  assert.equal(res.headers['location'], `${emulator.endpoint}/queues/q-create`);
});

test('CreateQueue again: 204 with identical attributes, QueueAlreadyExist (409) otherwise', async () => {
  await client.createQueue('q-twice', { DelaySeconds: 2 });
  const same = await client.createQueue('q-twice', { DelaySeconds: 2 });
  assert.equal(same.code, 204);
  const err = await rejection(client.createQueue('q-twice', { DelaySeconds: 3 }));
  assert.equal(err.name, 'MNSQueueAlreadyExistError');
  assert.match(err.message, /failed with 409/);
});

test('CreateQueue rejects bad names and out-of-range attributes', async () => {
  assert.equal((await rejection(client.createQueue('-bad', {}))).name, 'MNSInvalidQueueNameError');
  assert.equal(
    (await rejection(client.createQueue('a'.repeat(121), {}))).name,
    'MNSQueueNameLengthErrorError',
  );
  const err = await rejection(client.createQueue('q-range', { VisibilityTimeout: 0 }));
  assert.equal(err.name, 'MNSInvalidArgumentError');
  assert.match(err.message, /VisibilityTimeout should between 1 and 43200/);
});

test('GetQueueAttributes returns all twelve fields with live counts', async () => {
  await client.createQueue('q-attrs', { MaximumMessageSize: 2048, LoggingEnabled: 'True' });
  await client.sendMessage('q-attrs', { MessageBody: 'one' });
  await client.sendMessage('q-attrs', { MessageBody: 'two' });
  await client.receiveMessage('q-attrs');
  const res = await client.getQueueAttributes('q-attrs');
  assert.equal(res.code, 200);
  const a = res.body as Message;
  assert.deepEqual(Object.keys(a).sort(), [
    'ActiveMessages',
    'CreateTime',
    'DelayMessages',
    'DelaySeconds',
    'InactiveMessages',
    'LastModifyTime',
    'LoggingEnabled',
    'MaximumMessageSize',
    'MessageRetentionPeriod',
    'PollingWaitSeconds',
    'QueueName',
    'VisibilityTimeout',
  ]);
  assert.equal(a['QueueName'], 'q-attrs');
  assert.equal(a['MaximumMessageSize'], '2048');
  assert.equal(a['MessageRetentionPeriod'], '345600');
  assert.equal(a['LoggingEnabled'], 'True');
  assert.equal(a['ActiveMessages'], '1');
  assert.equal(a['InactiveMessages'], '1');
  assert.match(a['CreateTime'] as string, /^\d{10}$/, 'queue times are epoch seconds');
});

test('SetQueueAttributes changes only the given fields and answers 204', async () => {
  await client.createQueue('q-set', { DelaySeconds: 5 });
  const res = await client.setQueueAttributes('q-set', { VisibilityTimeout: 99 });
  assert.equal(res.code, 204);
  const a = (await client.getQueueAttributes('q-set')).body as Message;
  assert.equal(a['VisibilityTimeout'], '99');
  assert.equal(a['DelaySeconds'], '5');
  assert.equal(
    (await rejection(client.setQueueAttributes('q-missing', { DelaySeconds: 1 }))).name,
    'MNSQueueNotExistError',
  );
  assert.equal(
    (await rejection(client.setQueueAttributes('q-set', { PollingWaitSeconds: 31 }))).name,
    'MNSInvalidArgumentError',
  );
});

test('a message larger than MaximumMessageSize is refused with InvalidArgument', async () => {
  await client.createQueue('q-small', { MaximumMessageSize: 1024 });
  const err = await rejection(client.sendMessage('q-small', { MessageBody: 'x'.repeat(1025) }));
  assert.equal(err.name, 'MNSInvalidArgumentError');
  await client.sendMessage('q-small', { MessageBody: 'x'.repeat(1024) });
});

test('ListQueue lists declared and created queues, with prefix, paging and NextMarker', async () => {
  for (const n of ['list-a', 'list-b', 'list-c']) await client.createQueue(n, {});
  const all = await client.listQueue();
  const listedAll = all.body as Message[];
  const urls = listedAll.map(q => q['QueueURL']);
  assert.ok(urls.includes(`${emulator.endpoint}/queues/Alicom-Queue-1-ChatAppStatus`));
  assert.ok(urls.includes(`${emulator.endpoint}/queues/list-b`));
  assert.deepEqual(
    listedAll.find(q => q['QueueName'] === 'list-b'),
    { QueueName: 'list-b', QueueURL: `${emulator.endpoint}/queues/list-b` },
    'each entry carries QueueName and QueueURL, and nothing else without x-mns-with-meta',
  );
  const page = await client.listQueue(undefined, 2, 'list-');
  const listed = page.body as Message[];
  assert.deepEqual(
    listed.map(q => q['QueueURL']),
    [`${emulator.endpoint}/queues/list-a`, `${emulator.endpoint}/queues/list-b`],
  );
  const next = await client.listQueue('list-c', 2, 'list-');
  assert.deepEqual(
    (next.body as Message[]).map(q => q['QueueURL']),
    [`${emulator.endpoint}/queues/list-c`],
  );
});

test('ListQueue builds QueueURL from the Host header; x-mns-with-meta adds the attributes once', async () => {
  for (const n of ['host-a', 'host-b']) await client.createQueue(n, {});
  const host = `${emulator.accountId}.mns.cn-hangzhou-internal.aliyuncs.com`;
  const page = await rawMns(emulator, {
    method: 'GET',
    path: '/queues',
    headers: { host, 'x-mns-prefix': 'host-', 'x-mns-ret-number': '1' },
  });
  assert.equal(page.status, 200);
  assert.match(
    page.body,
    new RegExp(
      `<Queue><QueueName>host-a</QueueName><QueueURL>http://${host}/queues/host-a</QueueURL></Queue>` +
        '<NextMarker>host-b</NextMarker>',
    ),
  );
  const meta = await rawMns(emulator, {
    method: 'GET',
    path: '/queues',
    headers: { host, 'x-mns-prefix': 'host-', 'x-mns-marker': 'host-b', 'x-mns-with-meta': 'true' },
  });
  assert.equal(meta.status, 200);
  assert.equal(meta.body.match(/<QueueName>/g)?.length, 1);
  assert.match(
    meta.body,
    /<QueueName>host-b<\/QueueName><QueueURL>http:\/\/[^<]+\/queues\/host-b<\/QueueURL>/,
  );
  assert.match(
    meta.body,
    /<VisibilityTimeout>30<\/VisibilityTimeout>.*<LoggingEnabled>False<\/LoggingEnabled>/,
  );
  assert.doesNotMatch(meta.body, /NextMarker/);
});

test('DeleteQueue removes the queue and its messages; unknown queues give QueueNotExist', async () => {
  await client.createQueue('q-delete', {});
  await client.sendMessage('q-delete', { MessageBody: 'gone' });
  assert.equal((await client.deleteQueue('q-delete')).code, 204);
  assert.equal((await rejection(client.getQueueAttributes('q-delete'))).name, 'MNSQueueNotExistError');
  assert.equal((await rejection(client.receiveMessage('q-delete'))).name, 'MNSQueueNotExistError');
  assert.equal(
    (await rejection(client.sendMessage('q-delete', { MessageBody: 'x' }))).name,
    'MNSQueueNotExistError',
  );
  assert.equal((await rejection(client.deleteQueue('q-delete'))).name, 'MNSQueueNotExistError');
});
