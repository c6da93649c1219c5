import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSmqBody, parsePushBody } from '../../src/receipts/decode.js';
import { MAX_JOB_ID_LENGTH, defaultDedupeKey, jobIdFor } from '../../src/receipts/dedupe.js';
import type { AnyReceipt, MessageType } from '../../src/receipts/types.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { validateReceipt } from '../../src/receipts/validate.js';

function receipt(type: MessageType, item: Record<string, unknown>): AnyReceipt {
  const result = validateReceipt(type, item);
  if (!result.ok) assert.fail(result.reason);
  return result.receipt;
}

test('default keys: MessageId|Status for status, MessageId for inbound, the event state for audit', () => {
  assert.equal(
    defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { MessageId: 'm1', Status: 'Read', To: 'x' })),
    'm1|Read',
  );
  assert.equal(
    defaultDedupeKey('ChatAppInbound', receipt('ChatAppInbound', { MessageId: 'in1', Type: 'TEXT' })),
    'in1',
  );
  const v1 = { WabaId: 'w', TemplateCode: 't', Language: 'en_US', AuditStatus: 'pass', Reason: '' };
  assert.equal(defaultDedupeKey('ChatAppAudit', receipt('ChatAppAudit', v1)), 'w|template|t|en_US|pass|||');
  assert.equal(
    defaultDedupeKey(
      'ChatAppAudit',
      receipt('ChatAppAudit', {
        WabaId: 'w',
        Type: 'phoneQualityUpdate',
        PhoneNumber: '+65',
        Status: 'RED',
        CurrentLimit: 'TIER_1K',
      }),
    ),
    'w|phoneQualityUpdate||||RED|+65|TIER_1K',
  );
});

test('a V1 audit receipt and its V2 twin with Type "template" share a key', () => {
  const v1 = { WabaId: 'w', TemplateCode: 't', Language: 'en_US', AuditStatus: 'fail' };
  assert.equal(
    defaultDedupeKey('ChatAppAudit', receipt('ChatAppAudit', v1)),
    defaultDedupeKey('ChatAppAudit', receipt('ChatAppAudit', { ...v1, Type: 'template' })),
  );
});

test('fields outside the key do not change it; fields inside do', () => {
  const base = { MessageId: 'm1', Status: 'Delivered', Timestamp: 1 };
  const key = defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', base));
  assert.equal(
    defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { ...base, Timestamp: 2, Extra: 'x' })),
    key,
  );
  assert.notEqual(
    defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { ...base, Status: 'Read' })),
    key,
  );
});

test('separators inside values are escaped, so different field splits never join to one key', () => {
  const a = defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { MessageId: 'a|b', Status: 'c' }));
  const b = defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { MessageId: 'a', Status: 'b|c' }));
  const c = defaultDedupeKey('ChatAppStatus', receipt('ChatAppStatus', { MessageId: 'a\\', Status: '|c' }));
  assert.equal(new Set([a, b, c]).size, 3, `${a} ${b} ${c}`);
  assert.equal(a, 'a\\|b|c');
});

test('job ids never contain ":" and are never all digits', () => {
  const keys = ['12345', 'a:b', '::', '', '0', 'wamid.HBgL:ODUy', '100|Read'];
  for (const type of MESSAGE_TYPES) {
    for (const key of keys) {
      const id = jobIdFor(type, key);
      assert.ok(!id.includes(':'), id);
      assert.ok(!/^\d+$/.test(id), id);
      assert.ok(id.length <= MAX_JOB_ID_LENGTH, id);
    }
  }
});

test('short job ids stay readable; special characters are percent-encoded', () => {
  assert.equal(jobIdFor('ChatAppStatus', 'm1|Read'), 'status-m1|Read');
  assert.equal(jobIdFor('ChatAppInbound', '1000000000000003'), 'inbound-1000000000000003');
  assert.equal(jobIdFor('ChatAppStatus', 'a:b %'), 'status-a%3Ab%20%25');
  assert.equal(jobIdFor('ChatAppInbound', '模板'), 'inbound-%E6%A8%A1%E6%9D%BF');
  // "%" is encoded too, so an encoded-looking key cannot collide with the key it encodes.
  assert.notEqual(jobIdFor('ChatAppInbound', '%3A'), jobIdFor('ChatAppInbound', ':'));
});

test('job ids are stable, distinct per key and per type', () => {
  assert.equal(jobIdFor('ChatAppStatus', 'm1|Read'), jobIdFor('ChatAppStatus', 'm1|Read'));
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i += 1) ids.add(jobIdFor('ChatAppStatus', `m${i}|Read`));
  assert.equal(ids.size, 2000);
  assert.notEqual(jobIdFor('ChatAppStatus', 'x'), jobIdFor('ChatAppInbound', 'x'));
});

test('long keys are hashed to a bounded id that stays stable and distinct', () => {
  const long = 'w'.repeat(500);
  const id = jobIdFor('ChatAppAudit', long);
  assert.match(id, /^audit\.[A-Za-z0-9_-]{43}$/);
  assert.equal(jobIdFor('ChatAppAudit', long), id);
  assert.notEqual(jobIdFor('ChatAppAudit', long + 'x'), id);
  // The boundary: the longest readable id is kept as is, one more character is hashed.
  const fits = 'k'.repeat(MAX_JOB_ID_LENGTH - 'status-'.length);
  assert.equal(jobIdFor('ChatAppStatus', fits), `status-${fits}`);
  assert.match(jobIdFor('ChatAppStatus', fits + 'k'), /^status\./);
  // Encoding expansion counts: 50 Chinese characters are 450 characters encoded.
  assert.ok(jobIdFor('ChatAppInbound', '字'.repeat(50)).length <= MAX_JOB_ID_LENGTH);
});

test('the same receipt by SMQ (Base64) and by HTTP push gets the same key and job id', () => {
  const item = {
    MessageId: '1000000000000001',
    Status: 'Delivered',
    From: '8613800000000',
    To: '+6580000000',
    'Timestamp ': '1662104191973',
    Message: '你好 👋',
  };
  const [fromSmq] = decodeSmqBody(Buffer.from(JSON.stringify(item)).toString('base64'));
  const [fromHttp] = parsePushBody(JSON.stringify([item]));
  const smqReceipt = receipt('ChatAppStatus', fromSmq as Record<string, unknown>);
  const httpReceipt = receipt('ChatAppStatus', fromHttp as Record<string, unknown>);
  const key = defaultDedupeKey('ChatAppStatus', smqReceipt);
  assert.equal(defaultDedupeKey('ChatAppStatus', httpReceipt), key);
  assert.equal(
    jobIdFor('ChatAppStatus', key),
    jobIdFor('ChatAppStatus', defaultDedupeKey('ChatAppStatus', httpReceipt)),
  );
  assert.deepEqual(smqReceipt, httpReceipt);
});
