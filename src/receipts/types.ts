/** The CAMS receipt types. Each one is subscribed separately, with its own queue or callback URL. */
export const MESSAGE_TYPES = ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** Fields CAMS may add later are kept: every receipt is an open record. */
interface OpenRecord {
  [field: string]: unknown;
}

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
  /** TEXT, LOCATION, DOCUMENT, VIDEO, AUDIO, REPLY, IMAGE, CONTACTS, SYSTEM. */
  Type?: string;
  /** Plain text for TEXT; a JSON-encoded object for the other types (see `parsedMessage`). */
  Message?: string;
}

/** A delivery status for a message we sent (MT). */
export interface ChatAppStatusReceipt extends OpenRecord {
  MessageId: string;
  /** Sent, Delivered, Read, Failed, Deleted, subscribe, unsubscribe (Viber). */
  Status: string;
  From?: string;
  To?: string;
  Timestamp?: number;
  StatusDescription?: string;
  ErrorCode?: string;
  ErrorDescription?: string;
  ConversationType?: string;
  ConversationId?: string;
  MsgFrameType?: string;
  Type?: string;
  TaskId?: string;
  TemplateCode?: string;
}

/** A template review or account event. */
export interface ChatAppAuditReceipt extends OpenRecord {
  WabaId: string;
  TemplateCode?: string;
  Language?: string;
  AuditStatus?: string;
  Reason?: string;
  /** template, phoneNameUpdate, phoneQualityUpdate, wabaReviewUpdate, … (V2). */
  Type?: string;
  PhoneNumber?: string;
  Status?: string;
  CurrentLimit?: string;
}

export interface ReceiptByType {
  ChatAppInbound: ChatAppInboundReceipt;
  ChatAppStatus: ChatAppStatusReceipt;
  ChatAppAudit: ChatAppAuditReceipt;
}

export type AnyReceipt = ReceiptByType[MessageType];

/** Where a receipt came from. */
export type ReceiptSource = 'smq' | 'http';
