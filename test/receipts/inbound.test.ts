import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInboundMessage, parsedMessageFor } from '../../src/receipts/inbound.js';

const inbound = (Type: string | undefined, Message: unknown) => ({ MessageId: 'm', Type, Message }) as never;

test('non-TEXT Message strings are parsed', () => {
  assert.deepEqual(parseInboundMessage(inbound('REPLY', '{"text":"Yes","payload":"CONFIRM_1"}')), {
    text: 'Yes',
    payload: 'CONFIRM_1',
  });
  assert.deepEqual(parseInboundMessage(inbound('LOCATION', ' {"latitude":"1.29","longitude":"103.85"} ')), {
    latitude: '1.29',
    longitude: '103.85',
  });
  assert.deepEqual(parseInboundMessage(inbound('CONTACTS', '[{"name":{"formatted_name":"李雷"}}]')), [
    { name: { formatted_name: '李雷' } },
  ]);
});

test('TEXT is text even when it looks like JSON', () => {
  assert.equal(parseInboundMessage(inbound('TEXT', '{"a":1}')), undefined);
  assert.equal(parseInboundMessage(inbound('text', '{"a":1}')), undefined);
});

test('unparsable, missing or scalar Messages give undefined; an object Message is returned as is', () => {
  assert.equal(parseInboundMessage(inbound('IMAGE', '{"id":')), undefined);
  assert.equal(parseInboundMessage(inbound('IMAGE', undefined)), undefined);
  assert.equal(parseInboundMessage(inbound('AUDIO', '"just a string"')), undefined);
  assert.equal(parseInboundMessage(inbound('AUDIO', '42')), undefined);
  const object = { id: 'x', url: 'https://example.com/a.ogg' };
  assert.equal(parseInboundMessage(inbound('AUDIO', object)), object);
  assert.deepEqual(parseInboundMessage(inbound(undefined, '{"a":1}')), { a: 1 });
});

test('parsedMessageFor parses only inbound receipts', () => {
  assert.deepEqual(parsedMessageFor('ChatAppInbound', inbound('IMAGE', '{"id":"1"}')), { id: '1' });
  assert.equal(parsedMessageFor('ChatAppStatus', inbound('IMAGE', '{"id":"1"}')), undefined);
});
