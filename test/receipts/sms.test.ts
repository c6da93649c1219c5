import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiptFactory } from '../../src/emulator/index.js';
import { defaultDedupeKey, jobIdFor } from '../../src/receipts/dedupe.js';
import { RECEIPT_TYPES, type AnyReceipt, type MessageType } from '../../src/receipts/types.js';
import { validateReceipt } from '../../src/receipts/validate.js';

function valid(type: MessageType, item: Record<string, unknown>): AnyReceipt {
  const result = validateReceipt(type, item);
  if (!result.ok) assert.fail(result.reason);
  return result.receipt;
}

// The documented SmsReport body (SMS developer reference, "SmsReport" over MNS and HTTP).
const REPORT = {
  phone_number: '1381111****',
  send_time: '2017-01-01 00:00:00',
  report_time: '2017-01-01 00:00:00',
  success: true,
  err_code: 'DELIVERED',
  err_msg: '用户接收成功',
  sms_size: '1',
  biz_id: '12345^67890',
  out_id: '67890',
};

// The documented SmsUp body: sequence_id is a number in the queue body, a string in some push examples.
const UP = {
  phone_number: '1381111****',
  send_time: '2017-09-01 00:00:00',
  content: '内容',
  sign_name: '签名',
  dest_code: '1234',
  sequence_id: 1234567890,
};

test('SmsReport: the documented body validates; its key is biz_id|phone_number; job id smsreport-…', () => {
  const r = valid('SmsReport', REPORT);
  assert.equal(r['success'], true);
  assert.equal(defaultDedupeKey('SmsReport', r), '12345^67890|1381111****');
  assert.match(jobIdFor('SmsReport', defaultDedupeKey('SmsReport', r)), /^smsreport-12345%5E67890\|/);
  const failed = valid('SmsReport', { ...REPORT, success: 'false', err_code: 'MK:0001' });
  assert.equal(failed['success'], false, '"false" as text becomes false');
  assert.equal(valid('SmsReport', { ...REPORT, success: 1 })['success'], true, '1 becomes true');
});

test('SmsReport: a missing biz_id or phone_number, or a success that is no boolean, is refused clearly', () => {
  const noBiz = validateReceipt('SmsReport', { ...REPORT, biz_id: undefined });
  assert.deepEqual(noBiz, { ok: false, reason: 'SmsReport receipt is missing biz_id' });
  const noPhone = validateReceipt('SmsReport', { ...REPORT, phone_number: '' });
  assert.deepEqual(noPhone, { ok: false, reason: 'SmsReport receipt has an empty phone_number' });
  const odd = validateReceipt('SmsReport', { ...REPORT, success: 'maybe' });
  assert.deepEqual(odd, { ok: false, reason: 'success is not a boolean ("maybe")' });
});

test('SmsUp: a numeric sequence_id becomes its decimal string; the key is phone_number|sequence_id', () => {
  const r = valid('SmsUp', UP);
  assert.equal(r['sequence_id'], '1234567890');
  assert.equal(defaultDedupeKey('SmsUp', r), '1381111****|1234567890');
  assert.equal(
    defaultDedupeKey('SmsUp', valid('SmsUp', { ...UP, sequence_id: '1234567890' })),
    '1381111****|1234567890',
  );
  const missing = validateReceipt('SmsUp', { ...UP, sequence_id: undefined });
  assert.deepEqual(missing, { ok: false, reason: 'SmsUp receipt is missing sequence_id' });
});

test('the emulator generates valid SmsReport and SmsUp bodies with distinct keys', () => {
  const factory = new ReceiptFactory();
  for (const type of ['SmsReport', 'SmsUp'] as const) {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i += 1) keys.add(defaultDedupeKey(type, valid(type, factory.next(type))));
    assert.equal(keys.size, 200, `${type}: 200 distinct receipts`);
  }
});

test('the type registry: names, job id prefixes and the push paths that are on are unique', () => {
  for (const field of ['name', 'jobIdPrefix', 'pushPath'] as const) {
    // An empty push path is off (the SMS types until configured).
    const values = RECEIPT_TYPES.map(t => t[field]).filter(v => v !== '');
    assert.equal(new Set(values).size, values.length, field);
  }
  assert.ok(RECEIPT_TYPES.every(t => /^[a-z]+$/.test(t.jobIdPrefix)));
  assert.deepEqual(
    RECEIPT_TYPES.map(t => t.name),
    ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit', 'SmsReport', 'SmsUp'],
  );
});
