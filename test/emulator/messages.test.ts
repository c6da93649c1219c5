import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { keyClient, md5Upper, rejection, sleep, start, type Message, type MnsClient } from './helpers.js';

let emulator: EmulatorHandle;
let client: MnsClient;
let seq = 0;

/** A fresh queue per test, so tests cannot see each other's messages. */
async function freshQueue(attributes: Record<string, number> = {}): Promise<string> {
  seq += 1;
  const name = `msg-test-${seq}`;
  await client.createQueue(name, attributes);
  return name;
}

before(async () => {
  emulator = await start({ queues: [] });
  client = keyClient(emulator);
});

after(() => emulator.close());

describe('send, receive and delete with @alicloud/mns', () => {
  test('SendMessage returns MessageId and the upper-case hex MD5 of the body', async () => {
    const q = await freshQueue();
    const body = 'I am 测试字符串.';
    const res = await client.sendMessage(q, { MessageBody: body });
    assert.equal(res.code, 201);
    const sent = res.body as Message;
    assert.match(sent['MessageId'] as string, /^[0-9A-F]{32}$/);
    assert.equal(sent['MessageBodyMD5'], '9D75198CAA17528AB23790C1861987AF');
    assert.equal(sent['MessageBodyMD5'], md5Upper(body));
  });

  test('ReceiveMessage returns all nine fields and a handle made of [A-Za-z0-9-]', async () => {
    const q = await freshQueue();
    const before = Date.now();
    await client.sendMessage(q, { MessageBody: 'aGVsbG8=', Priority: 3 });
    const res = await client.receiveMessage(q);
    assert.equal(res.code, 200);
    const m = res.body as Message;
    assert.deepEqual(Object.keys(m).sort(), [
      'DequeueCount',
      'EnqueueTime',
      'FirstDequeueTime',
      'MessageBody',
      'MessageBodyMD5',
      'MessageId',
      'NextVisibleTime',
      'Priority',
      'ReceiptHandle',
    ]);
    assert.equal(m['MessageBody'], 'aGVsbG8=');
    assert.equal(m['Priority'], '3');
    assert.equal(m['DequeueCount'], '1');
    assert.match(m['ReceiptHandle'] as string, /^[A-Za-z0-9-]+$/);
    const enqueue = Number(m['EnqueueTime']);
    assert.ok(enqueue >= before - 5 && enqueue <= Date.now(), 'EnqueueTime is epoch ms');
    assert.ok(Number(m['FirstDequeueTime']) >= enqueue);
    // The queue default visibility timeout is 30 s.
    assert.ok(Math.abs(Number(m['NextVisibleTime']) - Number(m['FirstDequeueTime']) - 30_000) < 50);
    await client.deleteMessage(q, m['ReceiptHandle']);
    const err = await rejection(client.receiveMessage(q));
    assert.equal(err.name, 'MNSMessageNotExistError');
  });

  test('XML-special characters in a body come back intact', async () => {
    const q = await freshQueue();
    // The node client does not escape; an escaped body is what a careful client sends.
    await client.sendMessage(q, { MessageBody: 'a &lt;b&gt; &amp; c' });
    const res = await client.receiveMessage(q);
    assert.equal((res.body as Message)['MessageBody'], 'a <b> & c');
  });

  test('BatchSendMessage, BatchReceiveMessage of up to 16, BatchDeleteMessage', async () => {
    const q = await freshQueue();
    const bodies = Array.from({ length: 20 }, (_, i) => `body-${i}`);
    const first = await client.batchSendMessage(
      q,
      bodies.slice(0, 16).map(b => ({ MessageBody: b })),
    );
    assert.equal(first.code, 201);
    assert.equal((first.body as Message[]).length, 16);
    await client.batchSendMessage(
      q,
      bodies.slice(16).map(b => ({ MessageBody: b })),
    );
    const got: Message[] = [];
    const one = await client.batchReceiveMessage(q, 16);
    got.push(...(one.body as Message[]));
    assert.equal(got.length, 16);
    const two = await client.batchReceiveMessage(q, 16);
    got.push(...(two.body as Message[]));
    assert.deepEqual(got.map(m => m['MessageBody']).sort(), [...bodies].sort());
    const del = await client.batchDeleteMessage(
      q,
      got.slice(0, 16).map(m => m['ReceiptHandle']),
    );
    assert.equal(del.code, 204);
    assert.equal(del.body, undefined);
    const stats = emulator.stats().queues[q];
    assert.equal(stats?.deleted, 16);
    assert.equal(stats?.inFlight, 4);
  });

  test('batchReceiveMessage(q, 1) still answers with a <Messages> list', async () => {
    const q = await freshQueue();
    await client.sendMessage(q, { MessageBody: 'x' });
    const res = await client.batchReceiveMessage(q, 1);
    assert.ok(Array.isArray(res.body));
    assert.equal((res.body as Message[])[0]?.['MessageBody'], 'x');
  });

  test('PeekMessage and BatchPeekMessage do not change state and omit the handle', async () => {
    const q = await freshQueue();
    await client.batchSendMessage(q, [{ MessageBody: 'p1' }, { MessageBody: 'p2' }]);
    const peek = await client.peekMessage(q);
    const pm = peek.body as Message;
    assert.equal(pm['ReceiptHandle'], undefined);
    assert.equal(pm['NextVisibleTime'], undefined);
    assert.equal(pm['DequeueCount'], '0');
    assert.equal(pm['FirstDequeueTime'], '0');
    const batch = await client.batchPeekMessage(q, 16);
    assert.equal((batch.body as Message[]).length, 2);
    const received = await client.batchReceiveMessage(q, 16);
    assert.equal((received.body as Message[]).length, 2, 'peeked messages are still receivable');
    assert.equal((await rejection(client.peekMessage(q))).name, 'MNSMessageNotExistError');
  });

  test('BatchDeleteMessage reports per-entry failures with HTTP 404 and deletes the rest', async () => {
    const q = await freshQueue();
    await client.batchSendMessage(q, [{ MessageBody: 'a' }, { MessageBody: 'b' }]);
    const msgs = (await client.batchReceiveMessage(q, 2)).body as Message[];
    const good = msgs.map(m => m['ReceiptHandle'] as string);
    const stale = good[0] as string;
    await client.deleteMessage(q, stale);
    const res = await client.batchDeleteMessage(q, [stale, good[1], 'not-a-handle']);
    assert.equal(res.code, 404);
    const errors = res.body as Message[];
    assert.deepEqual(
      errors.map(e => [e['ErrorCode'], e['ReceiptHandle']]),
      [
        ['MessageNotExist', stale],
        ['ReceiptHandleError', 'not-a-handle'],
      ],
    );
    assert.deepEqual(Object.keys(errors[0] as Message).sort(), [
      'ErrorCode',
      'ErrorMessage',
      'ReceiptHandle',
    ]);
    assert.equal(emulator.stats().queues[q]?.deleted, 2);
  });

  test('DeleteMessage: ReceiptHandleError for a malformed handle, MessageNotExist for a used one', async () => {
    const q = await freshQueue();
    await client.sendMessage(q, { MessageBody: 'x' });
    const m = (await client.receiveMessage(q)).body as Message;
    assert.equal((await rejection(client.deleteMessage(q, 'garbage'))).name, 'MNSReceiptHandleErrorError');
    await client.deleteMessage(q, m['ReceiptHandle']);
    assert.equal(
      (await rejection(client.deleteMessage(q, m['ReceiptHandle']))).name,
      'MNSMessageNotExistError',
    );
  });

  test('priority 1 is received before priority 16 and the default 8', async () => {
    const q = await freshQueue();
    await client.sendMessage(q, { MessageBody: 'low', Priority: 16 });
    await client.sendMessage(q, { MessageBody: 'default' });
    await client.sendMessage(q, { MessageBody: 'high', Priority: 1 });
    const msgs = (await client.batchReceiveMessage(q, 3)).body as Message[];
    assert.deepEqual(
      msgs.map(m => m['MessageBody']),
      ['high', 'default', 'low'],
    );
  });

  test('DelaySeconds hides a message until it elapses, and the send reply carries a handle', async () => {
    const q = await freshQueue();
    const res = await client.sendMessage(q, { MessageBody: 'later', DelaySeconds: 1 });
    assert.match((res.body as Message)['ReceiptHandle'] as string, /^[A-Za-z0-9-]+$/);
    assert.equal((await rejection(client.receiveMessage(q))).name, 'MNSMessageNotExistError');
    assert.equal(emulator.stats().queues[q]?.delayed, 1);
    const attrs = (await client.getQueueAttributes(q)).body as Message;
    assert.equal(attrs['DelayMessages'], '1');
    // A long poll is woken by the delay expiring.
    const got = await client.receiveMessage(q, 3);
    assert.equal((got.body as Message)['MessageBody'], 'later');
  });
});

describe('visibility and receipt handles', () => {
  test('an unacknowledged message comes back after VisibilityTimeout with DequeueCount 2, and the old handle is dead', async () => {
    const q = await freshQueue({ VisibilityTimeout: 1 });
    await client.sendMessage(q, { MessageBody: 'retry-me' });
    const first = (await client.receiveMessage(q)).body as Message;
    assert.equal((await rejection(client.receiveMessage(q))).name, 'MNSMessageNotExistError');
    await sleep(1100);
    const again = (await client.receiveMessage(q, 2)).body as Message;
    assert.equal(again['MessageId'], first['MessageId']);
    assert.equal(again['DequeueCount'], '2');
    assert.equal(again['FirstDequeueTime'], first['FirstDequeueTime']);
    assert.notEqual(again['ReceiptHandle'], first['ReceiptHandle']);
    assert.equal(
      (await rejection(client.deleteMessage(q, first['ReceiptHandle']))).name,
      'MNSMessageNotExistError',
    );
    await client.deleteMessage(q, again['ReceiptHandle']);
  });

  test('delete fails once the visibility timeout has expired, even before anyone re-receives it', async () => {
    const q = await freshQueue({ VisibilityTimeout: 1 });
    await client.sendMessage(q, { MessageBody: 'too-late' });
    const m = (await client.receiveMessage(q)).body as Message;
    await sleep(1100);
    const err = await rejection(client.deleteMessage(q, m['ReceiptHandle']));
    assert.equal(err.name, 'MNSMessageNotExistError');
    assert.equal(emulator.stats().queues[q]?.visible, 1);
  });

  test('ChangeMessageVisibility returns a new handle, extends invisibility, and invalidates the old handle', async () => {
    const q = await freshQueue({ VisibilityTimeout: 1 });
    await client.sendMessage(q, { MessageBody: 'lease' });
    const m = (await client.receiveMessage(q)).body as Message;
    const changed = await client.changeMessageVisibility(q, m['ReceiptHandle'], 5);
    assert.equal(changed.code, 200);
    const cv = changed.body as Message;
    assert.notEqual(cv['ReceiptHandle'], m['ReceiptHandle']);
    assert.ok(Math.abs(Number(cv['NextVisibleTime']) - Date.now() - 5000) < 500);
    // The old handle is stale for both CMV and delete.
    assert.equal(
      (await rejection(client.changeMessageVisibility(q, m['ReceiptHandle'], 5))).name,
      'MNSMessageNotExistError',
    );
    assert.equal(
      (await rejection(client.deleteMessage(q, m['ReceiptHandle']))).name,
      'MNSMessageNotExistError',
    );
    await sleep(1100);
    // Past the original 1 s timeout the message is still invisible: the lease was extended.
    assert.equal((await rejection(client.receiveMessage(q))).name, 'MNSMessageNotExistError');
    await client.deleteMessage(q, cv['ReceiptHandle']);
    assert.equal(emulator.stats().queues[q]?.deleted, 1);
  });

  test('ChangeMessageVisibility parameter errors', async () => {
    const q = await freshQueue();
    await client.sendMessage(q, { MessageBody: 'x' });
    const m = (await client.receiveMessage(q)).body as Message;
    assert.equal(
      (await rejection(client.changeMessageVisibility(q, m['ReceiptHandle'], 50000))).name,
      'MNSInvalidArgumentError',
    );
    assert.equal(
      (await rejection(client.changeMessageVisibility(q, 'bad', 10))).name,
      'MNSReceiptHandleErrorError',
    );
    assert.equal(
      (await rejection(client.changeMessageVisibility(q, '', 10))).name,
      'MNSMissingReceiptHandleError',
    );
  });
});

describe('long polling', () => {
  test('a waiting BatchReceiveMessage returns within 50 ms of a send', async () => {
    const q = await freshQueue();
    const polled = client.batchReceiveMessage(q, 16, 10);
    await sleep(200); // let the poll reach the server and park
    const sentAt = performance.now();
    await client.sendMessage(q, { MessageBody: 'wake-up' });
    const res = await polled;
    const latencyMs = performance.now() - sentAt;
    assert.equal((res.body as Message[])[0]?.['MessageBody'], 'wake-up');
    assert.ok(latencyMs < 50, `long poll answered ${latencyMs.toFixed(1)} ms after the send`);
  });

  test('an empty long poll ends with MessageNotExist no later than waitseconds', async () => {
    const q = await freshQueue();
    const t0 = Date.now();
    const err = await rejection(client.batchReceiveMessage(q, 16, 1));
    const elapsed = Date.now() - t0;
    assert.equal(err.name, 'MNSMessageNotExistError');
    // The server answers 50 ms before waitseconds; the slack above 1000 ms only absorbs client-side delay.
    assert.ok(elapsed >= 800 && elapsed < 1150, `answered after ${elapsed} ms`);
  });

  test('PollingWaitSeconds applies when waitseconds is absent', async () => {
    const q = await freshQueue({ PollingWaitSeconds: 1 });
    const polled = client.receiveMessage(q);
    await sleep(150);
    await client.sendMessage(q, { MessageBody: 'queued-default-wait' });
    assert.equal(((await polled).body as Message)['MessageBody'], 'queued-default-wait');
  });

  test('several pollers each get distinct messages', async () => {
    const q = await freshQueue();
    const polls = [0, 1, 2].map(() => client.batchReceiveMessage(q, 1, 5));
    await sleep(150);
    await client.batchSendMessage(q, [{ MessageBody: 'a' }, { MessageBody: 'b' }, { MessageBody: 'c' }]);
    const bodies = (await Promise.all(polls)).map(r => (r.body as Message[])[0]?.['MessageBody']);
    assert.deepEqual(bodies.sort(), ['a', 'b', 'c']);
  });

  test('deleting a queue answers its pollers with QueueNotExist', async () => {
    const q = await freshQueue();
    const polled = rejection(client.receiveMessage(q, 5));
    await sleep(150);
    await client.deleteQueue(q);
    assert.equal((await polled).name, 'MNSQueueNotExistError');
  });
});

describe('scale', () => {
  test('200k queued messages: receive and delete stay fast and counters stay exact', async () => {
    const q = await freshQueue();
    const result = await emulator.inject({ queueName: q, count: 200_000 });
    assert.equal(result.enqueued, 200_000);
    let deleted = 0;
    for (let i = 0; i < 20; i += 1) {
      const msgs = (await client.batchReceiveMessage(q, 16)).body as Message[];
      await client.batchDeleteMessage(
        q,
        msgs.map(m => m['ReceiptHandle']),
      );
      deleted += msgs.length;
    }
    const stats = emulator.stats().queues[q];
    assert.equal(stats?.deleted, deleted);
    assert.equal(stats?.visible, 200_000 - deleted);
    assert.equal(stats?.inFlight, 0);
    await client.deleteQueue(q);
  });
});
