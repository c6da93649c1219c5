import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodeError } from '../../src/errors.js';
import { decodeSmqBody, parsePushBody } from '../../src/receipts/decode.js';

const status = { MessageId: 'wamid.1', Status: 'Delivered', From: '8613800000000', Timestamp: 1662104191973 };
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

test('a Base64 MessageBody decodes to the one receipt it holds', () => {
  assert.deepEqual(decodeSmqBody(b64(JSON.stringify(status))), [status]);
});

test('Base64 with MIME line breaks, surrounding whitespace or without padding still decodes', () => {
  const encoded = b64(JSON.stringify({ ...status, StatusDescription: 'x'.repeat(100) }));
  const chunked = encoded.replace(/.{76}/g, '$&\r\n');
  assert.ok(chunked.includes('\r\n'));
  assert.equal((decodeSmqBody(`  ${chunked}\n`)[0] as { MessageId: string }).MessageId, 'wamid.1');
  const unpadded = b64('{"MessageId":"a"}').replace(/=+$/, '');
  assert.deepEqual(decodeSmqBody(unpadded), [{ MessageId: 'a' }]);
});

test('URL-safe Base64 decodes', () => {
  const body = { MessageId: '>>>???', Message: '~~~' };
  const urlSafe = Buffer.from(JSON.stringify(body)).toString('base64url');
  assert.match(urlSafe, /[-_]/);
  assert.deepEqual(decodeSmqBody(urlSafe), [body]);
});

test('UTF-8 content (Chinese, emoji) survives Base64 and raw JSON', () => {
  const inbound = { MessageId: 'm1', Type: 'TEXT', Message: '你好，世界 👋🏽', Name: 'Zoë' };
  assert.deepEqual(decodeSmqBody(b64(JSON.stringify(inbound))), [inbound]);
  assert.deepEqual(decodeSmqBody(JSON.stringify(inbound)), [inbound]);
});

test('a raw JSON body falls back to JSON, and is not mis-read as Base64', () => {
  assert.deepEqual(decodeSmqBody(JSON.stringify(status)), [status]);
  assert.deepEqual(decodeSmqBody(`\n ${JSON.stringify(status, null, 2)} \n`), [status]);
});

test('a UTF-8 BOM before the JSON is ignored', () => {
  assert.deepEqual(decodeSmqBody('\uFEFF' + JSON.stringify(status)), [status]);
  assert.deepEqual(decodeSmqBody(b64('\uFEFF' + JSON.stringify(status))), [status]);
});

test('a JSON array yields its items, by Base64 or raw', () => {
  const items = [status, { ...status, Status: 'Read' }];
  assert.deepEqual(decodeSmqBody(b64(JSON.stringify(items))), items);
  assert.deepEqual(decodeSmqBody(JSON.stringify(items)), items);
});

test('garbage, empty bodies and empty arrays throw DecodeError with a reason', () => {
  for (const body of [
    '',
    '   ',
    'hello world',
    '{"MessageId":',
    '<xml/>',
    b64('not json at all'),
    b64('[]'),
    '[]',
  ]) {
    assert.throws(
      () => decodeSmqBody(body),
      (err: unknown) =>
        err instanceof DecodeError && err.code === 'CAMS_ERR_DECODE' && err.message.length > 10,
      `body ${JSON.stringify(body)}`,
    );
  }
  assert.throws(() => decodeSmqBody('hello world'), /neither Base64 of JSON \(not Base64\) nor JSON/);
});

test('Base64 of bytes that are not UTF-8 is rejected rather than decoded into replacement characters', () => {
  const latin1 = Buffer.from('{"MessageId":"caf\xe9"}', 'latin1').toString('base64');
  assert.throws(() => decodeSmqBody(latin1), /not UTF-8/);
});

test('a Base64 or raw JSON scalar is not a receipt', () => {
  // "MTIz" is Base64 of "123"; "1234" is valid Base64 and also a JSON number.
  for (const body of ['MTIz', '1234', 'true', 'null', '"text"', b64('"text"')]) {
    assert.throws(() => decodeSmqBody(body), DecodeError, body);
  }
});

test('parsePushBody accepts an array or a single object', () => {
  assert.deepEqual(parsePushBody(JSON.stringify([status, status])), [status, status]);
  assert.deepEqual(parsePushBody(JSON.stringify(status)), [status]);
  assert.deepEqual(parsePushBody('[]'), []);
  assert.deepEqual(parsePushBody(' \n[1, "x", null]\n'), [1, 'x', null]);
});

test('parsePushBody rejects non-JSON and JSON scalars with DecodeError', () => {
  assert.throws(() => parsePushBody('status=Read'), /body is not JSON/);
  assert.throws(() => parsePushBody(''), DecodeError);
  assert.throws(() => parsePushBody('42'), /not an object or array/);
  // Push bodies are never Base64.
  assert.throws(() => parsePushBody(b64(JSON.stringify(status))), DecodeError);
});
