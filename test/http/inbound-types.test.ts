import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { ChatAppInboundReceipt, InboundType } from '../../src/index.js';
import { eventually } from '../helpers/redis.js';
import { push, receiverPool } from './helpers.js';

const receiver = receiverPool();

/** WhatsApp message kinds beyond the documented CAMS list, with Message as CAMS encodes it: JSON text. */
const KINDS: readonly (readonly [InboundType, unknown])[] = [
  ['REACTION', { message_id: 'wamid.HBgLODYxMzgwMDAwMDAwFQIAERgSQUE=', emoji: '👍' }],
  [
    'INTERACTIVE',
    { type: 'list_reply', list_reply: { id: 'row-2', title: 'Tomorrow', description: '9-12' } },
  ],
  ['INTERACTIVE', { type: 'button_reply', button_reply: { id: 'yes-1', title: 'Yes' } }],
  ['BUTTON', { text: 'Track order', payload: 'TRACK_1' }],
  [
    'ORDER',
    {
      catalog_id: '1234',
      product_items: [{ product_retailer_id: 'sku-1', quantity: 2, item_price: 9.5, currency: 'USD' }],
    },
  ],
  ['STICKER', { id: '998877', mimeType: 'image/webp', animated: false, url: 'https://example.com/s.webp' }],
  ['UNSUPPORTED', { errors: [{ code: 131051, title: 'Message type unknown' }] }],
  // A type no one has heard of yet: the union leaves room for it.
  ['POLL_VOTE', { option: 2 }],
];

/** Compiles only while the union names these kinds and still takes any other string. */
function kindOf(receipt: ChatAppInboundReceipt): string {
  switch (receipt.Type) {
    case 'REACTION':
    case 'INTERACTIVE':
    case 'ORDER':
    case 'STICKER':
    case 'UNSUPPORTED':
      return receipt.Type.toLowerCase();
    default:
      return `other:${receipt.Type ?? ''}`;
  }
}

test('inbound kinds beyond the documented ones pass through with their raw body, parsed where JSON', async () => {
  const r = await receiver();
  const tag = randomUUID().slice(0, 8);
  const sent = KINDS.map(([Type, message], i) => ({
    MessageId: `${tag}-${i}`,
    From: '8613800000001',
    To: '6580000001',
    Timestamp: 1_700_000_000_000 + i,
    Type,
    Message: JSON.stringify(message),
    Context: { id: 'wamid.original', from: '6580000001' },
  }));
  const res = await push(r.url, '/inbound', sent);
  assert.equal(res.status, 200, res.text);
  const mine = () => r.handler.calls.filter(c => String(c.receipt['MessageId']).startsWith(tag));
  await eventually(() => mine().length >= sent.length, 10_000, 'every inbound receipt handled');
  for (const item of sent) {
    const call = mine().find(c => c.receipt['MessageId'] === item.MessageId);
    assert.ok(call, item.MessageId);
    assert.deepEqual(call.receipt, item, `${item.Type}: the receipt as sent, unknown fields kept`);
    assert.deepEqual(call.parsedMessage, JSON.parse(item.Message), `${item.Type}: parsedMessage`);
  }
  const kinds = mine().map(c => kindOf(c.receipt as ChatAppInboundReceipt));
  assert.deepEqual(
    new Set(kinds),
    new Set([
      'reaction',
      'interactive',
      'other:BUTTON',
      'order',
      'sticker',
      'unsupported',
      'other:POLL_VOTE',
    ]),
  );
});
