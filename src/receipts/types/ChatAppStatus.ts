import { defineReceiptType, requireText, words, type OpenRecord } from './spec.js';

/** Delivery statuses, Viber's subscription events, and room for values added later. */
export type StatusName =
  'Sent' | 'Delivered' | 'Read' | 'Failed' | 'Deleted' | 'subscribe' | 'unsubscribe' | (string & {});

/** A delivery status for a message we sent (MT). */
export interface ChatAppStatusReceipt extends OpenRecord {
  MessageId: string;
  Status: StatusName;
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

export default defineReceiptType<'ChatAppStatus', ChatAppStatusReceipt>({
  name: 'ChatAppStatus',
  jobIdPrefix: 'status',
  pushPath: '/appstatus',
  dedupeFields: ['MessageId', 'Status'],
  textFields: words(`MessageId Status From To StatusDescription ErrorCode ErrorDescription ConversationType
    ConversationId MsgFrameType Type TaskId OriginPhoneNumber TemplateCode Language
    FromUserId FromParentUserId FromUserName`),
  missing: r => requireText(r, 'MessageId') ?? requireText(r, 'Status'),
  loggedFields: words(`MessageId Status MsgFrameType Type TemplateCode From To ErrorCode ErrorDescription
    Timestamp`),
});
