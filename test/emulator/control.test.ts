import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { CliIo } from '../../src/cli/io.js';
import { emulatorCommand } from '../../src/cli/emulator.js';
import type { EmulatorHandle, EmulatorStats } from '../../src/emulator/index.js';
import { MNSClient, control, keyClient, sleep, start, type Message, type MnsClient } from './helpers.js';

const STATUS = 'Alicom-Queue-1234567890123456-ChatAppStatus';
const INBOUND = 'Alicom-Queue-1234567890123456-ChatAppInbound';
const AUDIT = 'Alicom-Queue-1234567890123456-ChatAppAudit';

let emulator: EmulatorHandle;
let client: MnsClient;

before(async () => {
  emulator = await start();
  client = keyClient(emulator);
});

after(() => emulator.close());

/** Receives and deletes everything in a queue, returning the decoded receipts. */
async function drain(queue: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (;;) {
    const res = await client.batchReceiveMessage(queue, 16).catch((err: Error) => {
      if (err.name === 'MNSMessageNotExistError') return undefined;
      throw err;
    });
    if (!res) return out;
    const msgs = res.body as Message[];
    for (const m of msgs)
      out.push(JSON.parse(Buffer.from(m['MessageBody'] as string, 'base64').toString('utf8')));
    await client.batchDeleteMessage(
      queue,
      msgs.map(m => m['ReceiptHandle']),
    );
  }
}

describe('control API', () => {
  test('the default declarations are the three CAMS queues', async () => {
    assert.deepEqual(emulator.queues, {
      ChatAppInbound: INBOUND,
      ChatAppStatus: STATUS,
      ChatAppAudit: AUDIT,
    });
    const res = await control(emulator, 'GET', '/queues');
    assert.equal(res.status, 200);
    assert.deepEqual((res.json as { queues: string[] }).queues, [AUDIT, INBOUND, STATUS]);
  });

  test('stats reports sent, received, deleted, inFlight, visible and delayed per queue', async () => {
    await client.batchSendMessage(STATUS, [{ MessageBody: 'a' }, { MessageBody: 'b' }, { MessageBody: 'c' }]);
    await client.sendMessage(STATUS, { MessageBody: 'd', DelaySeconds: 60 });
    const msgs = (await client.batchReceiveMessage(STATUS, 2)).body as Message[];
    await client.deleteMessage(STATUS, msgs[0]?.['ReceiptHandle']);
    const res = await control(emulator, 'GET', '/stats');
    const stats = res.json as EmulatorStats;
    assert.deepEqual(stats.queues[STATUS], {
      messageType: 'ChatAppStatus',
      sent: 4,
      received: 2,
      deleted: 1,
      expired: 0,
      inFlight: 1,
      visible: 1,
      delayed: 1,
    });
    assert.ok(stats.requests >= 4);
    await control(emulator, 'POST', '/reset');
    assert.equal(emulator.stats().queues[STATUS]?.sent, 0);
  });

  test('inject: raw bodies, receipt objects and generated receipts with duplicates', async () => {
    const raw = await control(emulator, 'POST', '/inject', { queueName: INBOUND, bodies: ['not-base64!'] });
    assert.deepEqual(raw.json, { enqueued: 1, duplicates: 0, queues: { [INBOUND]: 1 } });
    const obj = await control(emulator, 'POST', '/inject', {
      messageType: 'ChatAppAudit',
      receipts: [{ WabaId: '1', TemplateCode: 't', Language: 'en', AuditStatus: 'pass' }],
    });
    assert.equal((obj.json as { enqueued: number }).enqueued, 1);
    const gen = await control(emulator, 'POST', '/inject', {
      messageType: 'ChatAppStatus',
      count: 200,
      duplicateRatio: 1,
    });
    assert.deepEqual(gen.json, { enqueued: 400, duplicates: 200, queues: { [STATUS]: 400 } });

    const inbound = await client.receiveMessage(INBOUND);
    assert.equal((inbound.body as Message)['MessageBody'], 'not-base64!');
    const audit = await drain(AUDIT);
    assert.deepEqual(audit, [{ WabaId: '1', TemplateCode: 't', Language: 'en', AuditStatus: 'pass' }]);
    const statuses = await drain(STATUS);
    assert.equal(statuses.length, 400);
    const counts = new Map<string, number>();
    for (const r of statuses) {
      const key = JSON.stringify(r);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.ok(
      [...counts.values()].every(n => n === 2),
      'every receipt arrived exactly twice',
    );
    await control(emulator, 'POST', '/reset');
  });

  test('GET /_emulator/ lists the control endpoints', async () => {
    const res = await control(emulator, 'GET', '/');
    assert.equal(res.status, 200);
    assert.ok((res.json as { endpoints: string[] }).endpoints.includes('POST /_emulator/reset'));
  });

  test('inject rejects bad requests with a JSON error', async () => {
    const res = await control(emulator, 'POST', '/inject', { queueName: 'nope', count: 1 });
    assert.equal(res.status, 400);
    assert.match((res.json as { error: string }).error, /does not exist/);
    const bad = await control(emulator, 'POST', '/inject', { bodies: 'x', queueName: STATUS });
    assert.equal(bad.status, 400);
    const notJson = await control(emulator, 'GET', '/no-such-endpoint');
    assert.equal(notJson.status, 404);
  });

  test('declaring a queue at run time creates it and makes it usable for tokens', async () => {
    const res = await control(emulator, 'POST', '/queues', {
      messageType: 'SmsUp',
      queueName: 'Alicom-Queue-9-SmsUp',
    });
    assert.equal(res.status, 200);
    assert.equal(emulator.queues['SmsUp'], 'Alicom-Queue-9-SmsUp');
    await client.sendMessage('Alicom-Queue-9-SmsUp', { MessageBody: 'up' });
    assert.equal(emulator.stats().queues['Alicom-Queue-9-SmsUp']?.messageType, 'SmsUp');
  });

  test('reset empties queues, drops undeclared ones and clears faults', async () => {
    await client.createQueue('scratch', {});
    await client.sendMessage(STATUS, { MessageBody: 'x' });
    emulator.setFaults({ latencyMs: 1 });
    emulator.reset();
    assert.equal(emulator.stats().queues['scratch'], undefined);
    assert.equal(emulator.stats().queues[STATUS]?.visible, 0);
    assert.equal(emulator.faults().latencyMs, 0);
  });
});

describe('receipt generator', () => {
  test('fills every declared queue at the configured rate with decodable CAMS receipts and duplicates', async () => {
    emulator.reset();
    await control(emulator, 'PUT', '/generator', { ratePerSecond: 300, duplicateRatio: 0.2 });
    await sleep(1000);
    emulator.configureGenerator({ ratePerSecond: 0 });
    const stats = emulator.stats();
    assert.ok(stats.generated >= 200 && stats.generated <= 400, `generated ${stats.generated}`);
    assert.ok(stats.duplicatesGenerated > 0, 'some receipts were duplicated');

    const status = await drain(STATUS);
    const inbound = await drain(INBOUND);
    const audit = await drain(AUDIT);
    const sent = Object.values(stats.queues).reduce((n, q) => n + q.sent, 0);
    assert.equal(sent, stats.generated + stats.duplicatesGenerated);
    assert.equal(status.length, stats.queues[STATUS]?.sent);
    assert.equal(inbound.length, stats.queues[INBOUND]?.sent);
    assert.equal(audit.length, stats.queues[AUDIT]?.sent);
    assert.ok(status.length > 0 && inbound.length > 0 && audit.length > 0);

    for (const r of status) {
      for (const field of [
        'MessageId',
        'From',
        'To',
        'Timestamp',
        'Status',
        'StatusDescription',
        'MsgFrameType',
      ]) {
        assert.ok(field in r, `ChatAppStatus has ${field}`);
      }
      assert.ok(['Sent', 'Delivered', 'Read', 'Failed'].includes(r['Status'] as string));
      if (r['Status'] === 'Failed') assert.equal(r['ErrorCode'], '131026');
    }
    for (const r of inbound) {
      for (const field of [
        'MessageId',
        'CustSpaceId',
        'WabaId',
        'From',
        'To',
        'Timestamp',
        'DisplayName',
        'Type',
        'Message',
        'Name',
      ]) {
        assert.ok(field in r, `ChatAppInbound has ${field}`);
      }
      if (r['Type'] !== 'TEXT') assert.equal(typeof JSON.parse(r['Message'] as string), 'object');
    }
    for (const r of audit) {
      for (const field of ['WabaId', 'TemplateCode', 'Language', 'AuditStatus']) assert.ok(field in r);
    }
  });
});

describe('cams-receipts emulator (CLI)', () => {
  function fakeIo(shutdown: AbortController): CliIo & { out: () => string } {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    return {
      env: {},
      cwd: process.cwd(),
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      shutdown: shutdown.signal,
      onReload: () => undefined,
      notifyReady: () => undefined,
      out: () => text,
    };
  }

  test('prints endpoint, account, key and queues, serves, and stops with 0 on shutdown', async () => {
    const shutdown = new AbortController();
    const io = fakeIo(shutdown);
    const running = emulatorCommand(
      [
        '--port',
        '0',
        '--access-key-id',
        'LTAI-cli',
        '--access-key-secret',
        'cli-secret',
        '--queue',
        'SmsReport=Alicom-Queue-7-SmsReport',
        '--token-ttl',
        '60',
      ],
      io,
    );
    let endpoint: string | undefined;
    for (let i = 0; i < 100 && !endpoint; i += 1) {
      await sleep(20);
      endpoint = /listening on (http:\/\/\S+)/.exec(io.out())?.[1];
    }
    assert.ok(endpoint, io.out());
    assert.match(io.out(), /LTAI-cli \/ cli-secret/);
    assert.match(io.out(), /SmsReport=Alicom-Queue-7-SmsReport/);
    assert.match(io.out(), /account id: +1943695596114318/);
    const cli = new MNSClient('1943695596114318', {
      endpoint,
      accessKeyId: 'LTAI-cli',
      accessKeySecret: 'cli-secret',
    });
    assert.equal((await cli.getQueueAttributes('Alicom-Queue-7-SmsReport')).code, 200);
    shutdown.abort();
    assert.equal(await running, 0);
  });

  test('--help prints usage; bad flags exit 2', async () => {
    const io = fakeIo(new AbortController());
    assert.equal(await emulatorCommand(['--help'], io), 0);
    assert.match(io.out(), /--duplicate-ratio/);
    assert.equal(await emulatorCommand(['--queue', 'no-equals-sign'], fakeIo(new AbortController())), 2);
    assert.equal(await emulatorCommand(['--bogus'], fakeIo(new AbortController())), 2);
    assert.equal(await emulatorCommand(['--access-key-id', 'only-id'], fakeIo(new AbortController())), 2);
  });
});
