/**
 * The queue test suites of the official node SDK and of its TypeScript fork, run against the emulator with
 * the real `@alicloud/mns` client over real HTTP.
 *
 * - "client test": aliyun/mns-nodejs-sdk, test/client.test.js (mocha + expect.js), every case except the
 *   five topic ones.
 * - "fork queue test": iftechio/mns-nodejs-sdk, tests/queue.test.ts, its three queue scenarios, written
 *   with the `@alicloud/mns` call signatures.
 *
 * Both suites talk to a real account at `<account>.mns.cn-shanghai.aliyuncs.com` and have no endpoint
 * option. Here the client is built the same way. Only the URL it connects to (`client.endpoint`) points at
 * the emulator, so the Host header is still `<account>.mns.cn-shanghai.aliyuncs.com`, and the suites' own
 * Location, QueueURL and HostId values are asserted unchanged. The request URL in the error-message
 * patterns is the emulator's, because the client writes the URL it connected to.
 * Changes in substance: the "invalid key" cases must reject (the originals pass when nothing is thrown);
 * the fork deletes with the handle it had before ChangeMessageVisibility, while the service documents that
 * only the newest handle works, so this port deletes with the handle ChangeMessageVisibility returned.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mnsSignature } from '../../src/emulator/auth.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { MNSClient, start, type Message, type MnsClient } from './helpers.js';

interface SuiteClient extends MnsClient {
  endpoint: string;
  sign(verb: string, headers: Record<string, string>, resource: string): string;
}
const Client = MNSClient as unknown as new (
  accountId?: string,
  opts?: Record<string, unknown>,
) => SuiteClient;

let emulator: EmulatorHandle;
let ACCOUNT_ID: string;
let ACCESS_KEY_ID: string;
let ACCESS_KEY_SECRET: string;

before(async () => {
  // A fresh account: the suite expects its test queue to be the first one listed.
  emulator = await start({ queues: {} });
  ACCOUNT_ID = emulator.accountId;
  ACCESS_KEY_ID = emulator.accessKeyId;
  ACCESS_KEY_SECRET = emulator.accessKeySecret;
});

after(() => emulator.close());

/** A client built as the suite builds it, connected to the emulator. */
function suiteClient(accountId: string, accessKeyID: string, accessKeySecret: string): SuiteClient {
  const client = new Client(accountId, { accessKeyID, accessKeySecret, region: 'cn-shanghai' });
  client.endpoint = emulator.endpoint;
  return client;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The suite's 403 check on `accountid`, whose host the service names in HostId. */
async function assertListQueueFails(client: SuiteClient, name: string, message: string): Promise<void> {
  const pattern = new RegExp(
    `^GET ${escapeRegExp(emulator.endpoint)}/queues failed with 403\\. requestid: .{24}, ` +
      `hostid: http://accountid\\.mns\\.cn-shanghai\\.aliyuncs\\.com, message: ${escapeRegExp(message)}$`,
  );
  await assert.rejects(client.listQueue(), (ex: Error) => {
    assert.equal(ex.name, name);
    assert.match(ex.message, pattern);
    return true;
  });
}

function assertProperties(body: Message, names: readonly string[]): void {
  for (const name of names) assert.ok(name in body, `missing ${name}`);
}

const RECEIVED = [
  'MessageId',
  'MessageBodyMD5',
  'MessageBody',
  'ReceiptHandle',
  'EnqueueTime',
  'FirstDequeueTime',
  'NextVisibleTime',
  'DequeueCount',
  'Priority',
];

describe('client test', () => {
  test('constructor', () => {
    assert.throws(() => new Client(), /"accountid" must be passed in/);
    assert.throws(() => new Client('accountid'), /must pass in "opts"/);
    assert.throws(() => new Client('accountid', {}), /must pass in "opts.accessKeyID"/);
    assert.throws(
      () => new Client('accountid', { accessKeyID: 'accessKeyID' }),
      /must pass in "opts.accessKeySecret"/,
    );
    assert.throws(
      () => new Client('accountid', { accessKeyID: 'accessKeyID', accessKeySecret: 'accessKeySecret' }),
      /must pass in "opts.region"/,
    );
    const base = { accessKeyID: 'accessKeyID', accessKeySecret: 'accessKeySecret', region: 'cn-shanghai' };
    assert.equal(new Client('accountid', base).endpoint, 'http://accountid.mns.cn-shanghai.aliyuncs.com');
    assert.equal(
      new Client('accountid', { ...base, secure: true }).endpoint,
      'https://accountid.mns.cn-shanghai.aliyuncs.com',
    );
    assert.equal(
      new Client('accountid', { ...base, secure: true, internal: true }).endpoint,
      'https://accountid.mns.cn-shanghai-internal.aliyuncs.com',
    );
  });

  test('listQueue with invalid accessKeyID', async () => {
    const client = suiteClient('accountid', 'invalidAccessKeyID', 'invalidAccessKeySecret');
    await assertListQueueFails(
      client,
      'MNSInvalidAccessKeyIdError',
      'The access Id you provided is not exist.',
    );
  });

  test('listQueue with invalid accessKeySecret', async () => {
    const client = suiteClient('accountid', ACCESS_KEY_ID, 'invalidAccessKeySecret');
    await assertListQueueFails(
      client,
      'MNSAccessDeniedError',
      'The OwnerId that your Access Key Id associated to is forbidden for this operation.',
    );
  });

  test('sign', () => {
    const client = new Client('ACCOUNT_ID', {
      accessKeyID: 'ACCESS_KEY_ID',
      accessKeySecret: 'ACCESS_KEY_SECRET',
      region: 'cn-shanghai',
    });
    const headers = {
      'content-md5': '574683b3684e3cff610afa155cc2506d',
      date: 'Tue, 11 Apr 2017 10:09:19 GMT',
      'content-type': 'text/xml',
      'x-mns-version': '2015-06-06',
    };
    assert.equal(client.sign('PUT', headers, '/'), 'A9zehggaYHHujmuRMxGIDrhWwx8=');
    // The emulator's verifier must agree with the client on the suite's test vector.
    assert.equal(
      mnsSignature('ACCESS_KEY_SECRET', 'PUT', headers, '/', headers.date),
      'A9zehggaYHHujmuRMxGIDrhWwx8=',
    );
  });

  describe('API should ok', () => {
    const queueName = 'test-queue';
    let client: SuiteClient;
    before(() => {
      client = suiteClient(ACCOUNT_ID, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    });

    test('createQueue should ok', async () => {
      const response = await client.createQueue(queueName);
      assert.ok(response.code >= 200 && response.code < 300);
      assert.equal(
        response.headers['location'],
        `http://${ACCOUNT_ID}.mns.cn-shanghai.aliyuncs.com/queues/test-queue`,
      );
    });

    test('getQueueAttributes should ok', async () => {
      const response = await client.getQueueAttributes(queueName);
      assert.ok(response.code >= 200 && response.code < 300);
      assert.equal((response.body as Message)['QueueName'], 'test-queue');
    });

    test('setQueueAttributes should ok', async () => {
      const response = await client.setQueueAttributes(queueName);
      assert.equal(response.code, 204);
    });

    test('listQueue should ok', async () => {
      const response = await client.listQueue();
      assert.equal(response.code, 200);
      const body = response.body as Message[];
      assert.ok(body.length > 0);
      const [queue] = body;
      assert.equal(
        queue?.['QueueURL'],
        `http://${ACCOUNT_ID}.mns.cn-shanghai.aliyuncs.com/queues/test-queue`,
      );
    });

    test('sendMessage should ok', async () => {
      const response = await client.sendMessage(queueName, { MessageBody: 'just test it' });
      assert.equal(response.code, 201);
      assertProperties(response.body as Message, ['MessageId', 'MessageBodyMD5']);
    });

    test('peekMessage should ok', async () => {
      const response = await client.peekMessage(queueName);
      assert.equal(response.code, 200);
      assertProperties(response.body as Message, [
        'MessageId',
        'MessageBodyMD5',
        'MessageBody',
        'EnqueueTime',
        'FirstDequeueTime',
        'DequeueCount',
        'Priority',
      ]);
    });

    test('receiveMessage should ok', async () => {
      const response = await client.receiveMessage(queueName);
      assert.equal(response.code, 200);
      assertProperties(response.body as Message, RECEIVED);
    });

    test('receiveMessage with waitSecond should ok', async () => {
      await client.sendMessage(queueName, { MessageBody: 'just test it' });
      const response = await client.receiveMessage(queueName, 10);
      assert.equal(response.code, 200);
      assertProperties(response.body as Message, RECEIVED);
    });

    test('deleteMessage with waitSecond should ok', async () => {
      await client.sendMessage(queueName, { MessageBody: 'just test it' });
      const response = await client.receiveMessage(queueName, 10);
      assert.equal(response.code, 200);
      const body = response.body as Message;
      assertProperties(body, RECEIVED);
      const res = await client.deleteMessage(queueName, body['ReceiptHandle']);
      assert.equal(res.code, 204);
    });

    test('batchSendMessage should ok', async () => {
      const messages = [{ MessageBody: 'just test it' }, { MessageBody: 'just test it 2' }];
      const response = await client.batchSendMessage(queueName, messages);
      assert.equal(response.code, 201);
      const body = response.body as Message[];
      assert.ok(body.length > 0);
      assertProperties(body[0] as Message, ['MessageId', 'MessageBodyMD5']);
    });

    test('batchDeleteMessage shoule ok', async () => {
      const received = await client.batchReceiveMessage(queueName, 2);
      assert.equal(received.code, 200);
      const handles = (received.body as Message[]).map(item => item['ReceiptHandle']);
      const res = await client.batchDeleteMessage(queueName, handles);
      assert.equal(res.code, 204);
    });

    test('deleteQueue shoule ok', async () => {
      const res = await client.deleteQueue(queueName);
      assert.equal(res.code, 204);
    });
  });
});

describe('fork queue test', () => {
  const TEST_QUEUE_NAME = 'MNS-TEST-EXAMPLE-QUEUE';
  let client: SuiteClient;
  before(() => {
    client = suiteClient(ACCOUNT_ID, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
  });

  test('test queue', async () => {
    await client.createQueue(TEST_QUEUE_NAME);
    const queues = (await client.listQueue(undefined, 1000, TEST_QUEUE_NAME)).body as Message[];
    assert.ok(queues.map(queue => queue['QueueName']).includes(TEST_QUEUE_NAME), 'QueueName listed');

    await client.setQueueAttributes(TEST_QUEUE_NAME, {
      DelaySeconds: 20,
      MaximumMessageSize: 10000,
      MessageRetentionPeriod: 120,
      PollingWaitSeconds: 20,
      LoggingEnabled: true,
      VisibilityTimeout: 20,
    });
    const attributes = (await client.getQueueAttributes(TEST_QUEUE_NAME)).body as Message;
    assert.equal(attributes['DelaySeconds'], '20');
    assert.equal(attributes['MaximumMessageSize'], '10000');
    assert.equal(attributes['MessageRetentionPeriod'], '120');
    assert.equal(attributes['PollingWaitSeconds'], '20');
    assert.equal(attributes['LoggingEnabled'], 'True');
    assert.equal(attributes['VisibilityTimeout'], '20');

    await client.deleteQueue(TEST_QUEUE_NAME);
  });

  test('test message', async () => {
    await client.createQueue(TEST_QUEUE_NAME);
    const TEST_MESSAGE_BODY = 'MNS-TEST-MESSAGE-BODY';
    await client.sendMessage(TEST_QUEUE_NAME, { MessageBody: TEST_MESSAGE_BODY });

    const peekMessage = (await client.peekMessage(TEST_QUEUE_NAME)).body as Message;
    assert.equal(peekMessage['MessageBody'], TEST_MESSAGE_BODY);

    const receiveMessage = (await client.receiveMessage(TEST_QUEUE_NAME, 30)).body as Message;
    assert.equal(receiveMessage['MessageBody'], TEST_MESSAGE_BODY);

    const changed = await client.changeMessageVisibility(
      TEST_QUEUE_NAME,
      receiveMessage['ReceiptHandle'],
      300,
    );
    const { ReceiptHandle: newHandle } = changed.body as Message;
    assert.ok(newHandle);

    await client.deleteMessage(TEST_QUEUE_NAME, newHandle);
    await client.deleteQueue(TEST_QUEUE_NAME);
  });

  test('test batch message', async () => {
    await client.createQueue(TEST_QUEUE_NAME);
    const TEST_MESSAGE_BODIES = [
      'MNS-TEST-MESSAGE-BODY-1',
      'MNS-TEST-MESSAGE-BODY-2',
      'MNS-TEST-MESSAGE-BODY-3',
    ];
    await client.batchSendMessage(
      TEST_QUEUE_NAME,
      TEST_MESSAGE_BODIES.map(message => ({ MessageBody: message })),
    );

    const peekMessages = (await client.batchPeekMessage(TEST_QUEUE_NAME, 3)).body as Message[];
    assert.deepEqual(peekMessages.map(m => m['MessageBody']).sort(), TEST_MESSAGE_BODIES);

    const receiveMessages = (await client.batchReceiveMessage(TEST_QUEUE_NAME, 3, 30)).body as Message[];
    assert.deepEqual(receiveMessages.map(m => m['MessageBody']).sort(), TEST_MESSAGE_BODIES);

    const deleted = await client.batchDeleteMessage(
      TEST_QUEUE_NAME,
      receiveMessages.map(message => message['ReceiptHandle']),
    );
    assert.equal(deleted.code, 204);

    await client.deleteQueue(TEST_QUEUE_NAME);
  });
});
