import { defineReceiptType, requireText, words, type OpenRecord } from './spec.js';

/**
 * Inbound message types: the documented ones, the ones WhatsApp sends that CAMS passes on (reactions,
 * list and button replies, orders, stickers, unsupported), and room for any value added later.
 */
export type InboundType =
  | 'TEXT'
  | 'IMAGE'
  | 'VIDEO'
  | 'AUDIO'
  | 'DOCUMENT'
  | 'LOCATION'
  | 'CONTACTS'
  | 'REPLY'
  | 'SYSTEM'
  | 'REACTION'
  | 'INTERACTIVE'
  | 'BUTTON'
  | 'ORDER'
  | 'STICKER'
  | 'UNSUPPORTED'
  | (string & {});

/** A message an end user sent to us (MO). */
export interface ChatAppInboundReceipt extends OpenRecord {
  MessageId: string;
  CustSpaceId?: string;
  WabaId?: string;
  From?: string;
  To?: string;
  Timestamp?: number;
  DisplayName?: string;
  Name?: string;
  /** What kind of message; unknown values pass through with their raw `Message`. */
  Type?: InboundType;
  /** Plain text for TEXT; a JSON-encoded object for the other types (see `parsedMessage`). */
  Message?: string;
}

export default defineReceiptType<'ChatAppInbound', ChatAppInboundReceipt>({
  name: 'ChatAppInbound',
  jobIdPrefix: 'inbound',
  pushPath: '/inbound',
  dedupeFields: ['MessageId'],
  textFields: words(`MessageId CustSpaceId WabaId From To DisplayName Name Type Message
    FromUserId FromParentUserId FromUserName`),
  missing: r => requireText(r, 'MessageId'),
  // `Message` (what the user wrote) and media URLs are content, not metadata.
  loggedFields: ['MessageId', 'Type', 'From', 'To', 'WabaId', 'Timestamp'],
});
