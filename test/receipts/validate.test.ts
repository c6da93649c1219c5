import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateReceipt } from '../../src/receipts/validate.js';

function ok<T>(result: { ok: true; receipt: T } | { ok: false; reason: string }): T {
  if (!result.ok) assert.fail(`expected a valid receipt, got: ${result.reason}`);
  return result.receipt;
}
function reason(result: { ok: boolean; reason?: string }): string {
  assert.equal(result.ok, false);
  return result.reason ?? '';
}

test('a ChatAppStatus receipt needs MessageId and Status, and keeps unknown fields', () => {
  const item = { MessageId: 'm1', Status: 'Read', Language: 'id', Pricing: { category: 'utility' } };
  const receipt = ok(validateReceipt('ChatAppStatus', item));
  assert.deepEqual(receipt, item);
  assert.notEqual(receipt, item, 'a copy, the input is not mutated');
  assert.match(
    reason(validateReceipt('ChatAppStatus', { MessageId: 'm1' })),
    /ChatAppStatus receipt is missing Status/,
  );
  assert.match(reason(validateReceipt('ChatAppStatus', { Status: 'Read' })), /missing MessageId/);
  assert.match(reason(validateReceipt('ChatAppStatus', { MessageId: 'm1', Status: '' })), /empty Status/);
  assert.match(
    reason(validateReceipt('ChatAppStatus', { MessageId: 'm1', Status: ['Read'] })),
    /Status that is not a string/,
  );
});

test('a ChatAppInbound receipt needs MessageId only', () => {
  const receipt = ok(validateReceipt('ChatAppInbound', { MessageId: 'in-1', Type: 'TEXT', Message: 'hi' }));
  assert.equal(receipt.Message, 'hi');
  assert.match(
    reason(validateReceipt('ChatAppInbound', { Type: 'TEXT', Message: 'hi' })),
    /missing MessageId/,
  );
});

test('a ChatAppAudit template event needs WabaId, TemplateCode and AuditStatus', () => {
  const v1 = { WabaId: '9099', TemplateCode: 'tpl', Language: 'en_US', AuditStatus: 'pass', Reason: '' };
  assert.deepEqual(ok(validateReceipt('ChatAppAudit', v1)), v1);
  ok(validateReceipt('ChatAppAudit', { ...v1, Type: 'template' }));
  assert.match(reason(validateReceipt('ChatAppAudit', { ...v1, WabaId: undefined })), /missing WabaId/);
  assert.match(
    reason(validateReceipt('ChatAppAudit', { WabaId: '9099', AuditStatus: 'pass' })),
    /missing TemplateCode/,
  );
  assert.match(
    reason(validateReceipt('ChatAppAudit', { WabaId: '9099', TemplateCode: 'tpl' })),
    /missing AuditStatus/,
  );
});

test('a ChatAppAudit account event needs WabaId and some state', () => {
  ok(
    validateReceipt('ChatAppAudit', {
      WabaId: '9099',
      Type: 'phoneQualityUpdate',
      PhoneNumber: '+6580000000',
      Status: 'YELLOW',
    }),
  );
  ok(validateReceipt('ChatAppAudit', { WabaId: '9099', Type: 'wabaReviewUpdate', Status: 'APPROVED' }));
  assert.match(
    reason(validateReceipt('ChatAppAudit', { WabaId: '9099', Type: 'wabaAccountUpdate' })),
    /Type wabaAccountUpdate needs one of AuditStatus, Status/,
  );
  assert.match(
    reason(validateReceipt('ChatAppAudit', { WabaId: '9099', Type: { v: 2 }, Status: 'x' })),
    /Type that is not a string/,
  );
});

test('non-objects are rejected with what they were', () => {
  for (const [item, what] of [
    [null, 'null'],
    ['{"MessageId":"m"}', 'a string'],
    [42, 'a number'],
    [[{ MessageId: 'm', Status: 'Read' }], 'an array'],
    [undefined, 'a undefined'],
  ] as const) {
    assert.match(
      reason(validateReceipt('ChatAppStatus', item)),
      new RegExp(`must be a JSON object, got ${what}`),
    );
  }
  assert.equal(validateReceipt('ChatAppStatus', new Date()).ok, false, 'class instances are not receipts');
  assert.equal(
    validateReceipt('ChatAppStatus', Object.assign(Object.create(null), { MessageId: 'm', Status: 'x' })).ok,
    true,
  );
});

test('numbers in text fields become strings; unsafe integers are refused', () => {
  const receipt = ok(
    validateReceipt('ChatAppStatus', { MessageId: 1234567, Status: 'Failed', ErrorCode: 131026 }),
  );
  assert.equal(receipt.MessageId, '1234567');
  assert.equal(receipt.ErrorCode, '131026');
  const audit = ok(
    validateReceipt('ChatAppAudit', { WabaId: 909999999012, TemplateCode: 'tpl', AuditStatus: 'pass' }),
  );
  assert.equal(audit.WabaId, '909999999012');
  assert.match(
    reason(validateReceipt('ChatAppInbound', { MessageId: 2 ** 53 + 2 })),
    /too large to be exact/,
  );
});

test('null known fields are absent, digit-string Timestamps are numbers, stray key whitespace is trimmed', () => {
  const receipt = ok(
    validateReceipt('ChatAppStatus', {
      MessageId: 'm',
      Status: 'Sent',
      ErrorCode: null,
      'Timestamp ': '1662104191973',
    }),
  );
  assert.equal('ErrorCode' in receipt, false);
  assert.equal(receipt.Timestamp, 1662104191973);
  assert.equal('Timestamp ' in receipt, false);
  const both = ok(
    validateReceipt('ChatAppStatus', { MessageId: 'm', Status: 'Sent', 'Timestamp ': 1, Timestamp: 2 }),
  );
  assert.equal(both.Timestamp, 2, 'a correctly spelled key wins');
  assert.equal(both['Timestamp '], 1);
});

test('help.aliyun.com BSUID names fill the FromUserId spelling, and both are kept', () => {
  const receipt = ok(
    validateReceipt('ChatAppStatus', { MessageId: 'm', Status: 'Read', UserId: 'u1', UserName: 'jo' }),
  );
  assert.equal(receipt['FromUserId'], 'u1');
  assert.equal(receipt['UserId'], 'u1');
  assert.equal(receipt['FromUserName'], 'jo');
  const both = ok(
    validateReceipt('ChatAppStatus', { MessageId: 'm', Status: 'Read', UserId: 'u1', FromUserId: 'u2' }),
  );
  assert.equal(both['FromUserId'], 'u2');
});

test('a JSON "__proto__" key stays a plain field and does not change the prototype', () => {
  const item: unknown = JSON.parse('{"MessageId":"m","Status":"Read","__proto__":{"polluted":true}}');
  const receipt = ok(validateReceipt('ChatAppStatus', item));
  assert.equal(Object.getPrototypeOf(receipt), Object.prototype);
  assert.equal((receipt as Record<string, unknown>)['polluted'], undefined);
});
