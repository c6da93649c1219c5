import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { PushEvent } from '../../src/contracts/telemetry.js';
import { eventually } from '../helpers/redis.js';
import { envelope } from '../pipeline/harness.js';
import { AUDIO_MESSAGE, auditBatch, inboundAudio, statusBatch, statusTemplateBatch } from './fixtures.js';
import { SUCCESS, callsPerKey, json, push, receiverPool } from './helpers.js';

const receiver = receiverPool();

const tag = () => randomUUID().slice(0, 8);

test('documented payloads: each receipt reaches the handler once, typed, with source http', async () => {
  const r = await receiver();
  const t = tag();
  const status = statusTemplateBatch(t);
  const audit = auditBatch(t);
  const audio = inboundAudio(t);

  for (const [path, body] of [
    ['/appstatus', status],
    ['/inbound', [audio]],
    ['/appaudit', audit],
  ] as const) {
    const res = await push(r.url, path, body);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    assert.deepEqual(json(res), SUCCESS);
    assert.match(String(res.headers['content-type']), /^application\/json/);
  }

  const expected = status.length + audit.length + 1;
  await eventually(() => r.handler.calls.length >= expected, 10_000, `${expected} handler calls`);
  await new Promise(res => setTimeout(res, 200)); // a late duplicate would show up here
  assert.equal(r.handler.calls.length, expected);
  assert.ok(r.handler.calls.every(c => c.source === 'http'));

  const statuses = r.handler.calls.filter(c => c.type === 'ChatAppStatus');
  assert.deepEqual(
    statuses.map(c => `${String(c.receipt['MessageId'])}|${String(c.receipt['Status'])}`).sort(),
    status.map(s => `${String(s['MessageId'])}|${String(s['Status'])}`).sort(),
  );
  assert.equal(new Set(statuses.map(c => c.dedupeKey)).size, 4);
  assert.equal(statuses.find(c => c.receipt['Status'] === 'Failed')?.receipt['ErrorCode'], '131026');

  const inbound = r.handler.calls.filter(c => c.type === 'ChatAppInbound');
  assert.equal(inbound.length, 1);
  assert.equal(inbound[0]?.receipt['Type'], 'AUDIO');
  assert.equal(typeof inbound[0]?.receipt['Message'], 'string', 'the receipt keeps Message as CAMS sent it');
  assert.deepEqual(inbound[0]?.parsedMessage, AUDIO_MESSAGE);

  const audits = r.handler.calls.filter(c => c.type === 'ChatAppAudit');
  assert.equal(audits.length, 3);
  assert.deepEqual(audits.map(c => c.receipt['AuditStatus'] ?? c.receipt['Status']).sort(), [
    'YELLOW',
    'fail',
    'unaudit',
  ]);
});

test('the same batch posted twice gets 200 both times and one handler call per receipt', async () => {
  const r = await receiver();
  const batch = statusTemplateBatch(tag());
  assert.equal((await push(r.url, '/appstatus', batch)).status, 200);
  await eventually(() => r.handler.calls.length >= batch.length, 10_000, 'first batch handled');
  assert.equal((await push(r.url, '/appstatus', batch)).status, 200);
  // And a retry that races the first delivery.
  const again = await Promise.all([push(r.url, '/appstatus', batch), push(r.url, '/appstatus', batch)]);
  assert.deepEqual(
    again.map(a => a.status),
    [200, 200],
  );
  await new Promise(res => setTimeout(res, 500));
  assert.equal(r.handler.calls.length, batch.length);
  assert.ok([...callsPerKey(r.handler.calls).values()].every(n => n === 1));
});

test('a receipt that arrives by SMQ and by HTTP push is handled once', async () => {
  const r = await receiver();
  const [viaSmq, both] = statusTemplateBatch(tag());
  await r.pipeline.sink.submit([envelope('ChatAppStatus', viaSmq!), envelope('ChatAppStatus', both!)]);
  await eventually(() => r.handler.calls.length === 2, 10_000, 'the SMQ receipts handled');
  assert.equal((await push(r.url, '/appstatus', [both])).status, 200);
  await new Promise(res => setTimeout(res, 300));
  assert.equal(r.handler.calls.length, 2);
  assert.deepEqual(
    r.handler.calls.map(c => c.source),
    ['smq', 'smq'],
  );
});

test('a single object body is accepted as a batch of one', async () => {
  const r = await receiver();
  const [receipt] = statusBatch(tag(), 1);
  const res = await push(r.url, '/appstatus', receipt);
  assert.equal(res.status, 200);
  await eventually(() => r.handler.calls.length === 1, 10_000, 'the receipt handled');
  assert.equal(r.handler.calls[0]?.receipt['MessageId'], receipt?.['MessageId']);
});

test('text/plain, charset parameters and a missing content type are all accepted', async () => {
  const r = await receiver();
  const t = tag();
  const cases: (string | null)[] = [
    'text/plain',
    'text/plain; charset=UTF-8',
    'application/json; charset=utf-8',
    null,
  ];
  for (const [i, contentType] of cases.entries()) {
    const res = await push(r.url, '/appstatus', statusBatch(`${t}-${i}`, 2), { contentType });
    assert.equal(res.status, 200, `${String(contentType)}: ${res.text}`);
  }
  await eventually(() => r.handler.calls.length === cases.length * 2, 10_000, 'all receipts handled');
});

test('non-ASCII UTF-8 text arrives intact', async () => {
  const r = await receiver();
  const receipt = { ...inboundAudio(tag()), Type: 'TEXT', Message: '你好 👋 — ¿qué tal?', Name: 'Zoë' };
  assert.equal(
    (await push(r.url, '/inbound', [receipt], { contentType: 'text/plain;charset=utf-8' })).status,
    200,
  );
  await eventually(() => r.handler.calls.length === 1, 10_000, 'the receipt handled');
  assert.equal(r.handler.calls[0]?.receipt['Message'], '你好 👋 — ¿qué tal?');
  assert.equal(r.handler.calls[0]?.receipt['Name'], 'Zoë');
});

test('an empty array gets 200 and stores nothing', async () => {
  const events: PushEvent[] = [];
  const r = await receiver({ onPush: e => events.push(e) });
  const res = await push(r.url, '/inbound', []);
  assert.equal(res.status, 200);
  assert.deepEqual(json(res), SUCCESS);
  const counts = await r.pipeline.queues.get('ChatAppInbound').getJobCounts();
  assert.equal(
    Object.values(counts).reduce((a, b) => a + b, 0),
    0,
  );
  assert.equal(await r.pipeline.deadLetters.count(), 0);
  await eventually(() => events.length === 1, 2000, 'the push reported');
  assert.equal(events[0]?.receipts, 0);
});

test('a mixed array: good items are processed, bad ones dead-lettered with the raw item, reply 200', async () => {
  const events: PushEvent[] = [];
  const r = await receiver({ onPush: e => events.push(e) });
  const t = tag();
  const good = statusBatch(t, 3);
  const missingStatus = { MessageId: `${t}-nostatus`, From: '1' };
  const notObject = 'just a string';
  const body = [good[0], missingStatus, good[1], notObject, 42, good[2]];
  const res = await push(r.url, '/appstatus', body);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(json(res), SUCCESS);

  await eventually(() => r.handler.calls.length === 3, 10_000, 'the three good receipts handled');
  const parked = await r.pipeline.deadLetters.list({ type: 'ChatAppStatus' });
  assert.equal(parked.length, 3);
  assert.ok(
    parked.every(e => e.reason === 'invalid' && e.source === 'http' && e.messageType === 'ChatAppStatus'),
  );
  assert.deepEqual(
    parked.map(e => e.raw).sort(),
    [JSON.stringify(missingStatus), JSON.stringify(notObject), '42'].sort(),
  );
  assert.match(parked.find(e => e.raw === JSON.stringify(missingStatus))?.error ?? '', /missing Status/);

  const logged = r.logs.find(l => l.event === 'push_items_invalid');
  assert.equal(logged?.['invalid'], 3);
  await eventually(() => events.length === 1, 2000, 'the push reported');
  assert.deepEqual(
    { ...events[0], durationMs: 0 },
    { messageType: 'ChatAppStatus', status: 200, receipts: 3, invalid: 3, durationMs: 0 },
  );

  // CAMS retries whole batches: the same bad items park once, not once per retry.
  const again = await push(r.url, '/appstatus', body);
  assert.equal(again.status, 200);
  assert.equal((await r.pipeline.deadLetters.list({ type: 'ChatAppStatus' })).length, 3);
});

test('a receipt posted to the wrong type path is dead-lettered, not mistaken for that type', async () => {
  const r = await receiver();
  const res = await push(r.url, '/appaudit', statusBatch(tag(), 1));
  assert.equal(res.status, 200);
  const parked = await r.pipeline.deadLetters.list({ type: 'ChatAppAudit' });
  assert.equal(parked.length, 1);
  assert.match(parked[0]?.error ?? '', /WabaId/);
});

test('200 concurrent posts of 10 receipts each: all stored and handled once, none lost or doubled', async () => {
  const r = await receiver();
  const t = tag();
  const batches = Array.from({ length: 200 }, (_, i) => statusBatch(`${t}-${i}`, 10));
  const replies = await Promise.all(batches.map(b => push(r.url, '/appstatus', b)));
  assert.deepEqual(
    replies.filter(res => res.status !== 200).map(res => `${res.status} ${res.text}`),
    [],
  );
  await eventually(() => r.handler.calls.length >= 2000, 60_000, '2000 handler calls');
  await new Promise(res => setTimeout(res, 300));
  const counts = callsPerKey(r.handler.calls);
  assert.equal(counts.size, 2000);
  assert.ok([...counts.values()].every(n => n === 1));
  const expected = new Set(batches.flat().map(b => String(b['MessageId'])));
  assert.deepEqual(new Set(r.handler.calls.map(c => String(c.receipt['MessageId']))), expected);
});
