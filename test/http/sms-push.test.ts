import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { eventually } from '../helpers/redis.js';
import { SUCCESS, json, push, receiverPool } from './helpers.js';

const receiver = receiverPool();

test('SMS push: SmsReport and SmsUp arrays on their own paths reach the handler once each, typed', async () => {
  const r = await receiver();
  const biz = `${randomUUID().slice(0, 8)}^0`;
  const reports = ['13800000001', '13800000002'].map((phone, i) => ({
    phone_number: phone,
    send_time: '2017-01-01 00:00:00',
    report_time: '2017-01-01 00:00:05',
    success: i === 0,
    err_code: i === 0 ? 'DELIVERED' : 'MK:0001',
    err_msg: i === 0 ? '用户接收成功' : 'failed',
    sms_size: '1',
    biz_id: biz,
    out_id: '67890',
  }));
  const seq = String(Date.now());
  const ups = [
    {
      phone_number: '13800000001',
      content: 'TD',
      send_time: '2017-09-01 00:00:00',
      dest_code: '1234',
      sequence_id: seq,
    },
  ];
  for (const [path, body] of [
    ['/smsreport', reports],
    ['/smsup', ups],
    ['/smsreport', reports],
  ] as const) {
    const res = await push(r.url, path, body);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    assert.deepEqual(json(res), SUCCESS);
  }
  await eventually(() => r.handler.calls.length >= 3, 10_000, 'three handler calls');
  await new Promise(res => setTimeout(res, 300)); // the repeated batch would show up here
  assert.equal(r.handler.calls.length, 3, 'the repeated SmsReport batch is not handled again');
  const smsReports = r.handler.calls.filter(c => c.type === 'SmsReport');
  assert.deepEqual(smsReports.map(c => c.dedupeKey).sort(), [`${biz}|13800000001`, `${biz}|13800000002`]);
  assert.deepEqual(smsReports.map(c => c.receipt['success']).sort(), [false, true]);
  const up = r.handler.calls.find(c => c.type === 'SmsUp');
  assert.equal(up?.dedupeKey, `13800000001|${seq}`);
  assert.equal(up?.source, 'http');
});

test('SMS push: an SmsReport without biz_id gets 200 and is parked, not handled', async () => {
  const r = await receiver();
  const res = await push(r.url, '/smsreport', [{ phone_number: '13800000009', success: true }]);
  assert.equal(res.status, 200, res.text);
  const entries = await r.pipeline.deadLetters.list({});
  const parked = entries.find(e => e.messageType === 'SmsReport');
  assert.equal(parked?.reason, 'invalid');
  assert.match(parked?.error ?? '', /missing biz_id/);
  assert.equal(r.handler.calls.filter(c => c.receipt['phone_number'] === '13800000009').length, 0);
});
