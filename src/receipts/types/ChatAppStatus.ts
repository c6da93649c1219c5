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

/** The delivery states by rank; Failed ranks last (it is terminal). Other statuses are events, unranked. */
export const STATUS_RANK: Readonly<Record<string, number>> = { Sent: 1, Delivered: 2, Read: 3, Failed: 4 };

export default defineReceiptType<'ChatAppStatus', ChatAppStatusReceipt>({
  name: 'ChatAppStatus',
  jobIdPrefix: 'status',
  pushPath: '/appstatus',
  dedupeFields: ['MessageId', 'Status'],
  textFields: words(`MessageId Status From To StatusDescription ErrorCode ErrorDescription ConversationType
    ConversationId MsgFrameType Type TaskId OriginPhoneNumber TemplateCode Language
    FromUserId FromParentUserId FromUserName`),
  missing: r => requireText(r, 'MessageId') ?? requireText(r, 'Status'),
  rank: r => (typeof r['Status'] === 'string' ? STATUS_RANK[r['Status']] : undefined),
  loggedFields: words(`MessageId Status MsgFrameType Type TemplateCode From To ErrorCode ErrorDescription
    Timestamp`),
});
