import ChatAppAudit from './types/ChatAppAudit.js';
import ChatAppInbound from './types/ChatAppInbound.js';
import ChatAppStatus from './types/ChatAppStatus.js';
import SmsReport from './types/SmsReport.js';
import SmsUp from './types/SmsUp.js';
import type { ReceiptTypeSpec } from './types/spec.js';

/**
 * The registry of receipt types: the three CAMS types and the Alibaba Cloud SMS ones. Each is subscribed
 * separately, with its own queue or callback URL. Adding a type is one file in ./types/ and its entry here.
 */
export const RECEIPT_TYPES = [ChatAppInbound, ChatAppStatus, ChatAppAudit, SmsReport, SmsUp] as const;

type Spec = (typeof RECEIPT_TYPES)[number];
export type MessageType = Spec['name'];
export const MESSAGE_TYPES: readonly MessageType[] = RECEIPT_TYPES.map(t => t.name);

export type ReceiptByType = {
  [S in Spec as S['name']]: S extends ReceiptTypeSpec<string, infer R> ? R : never;
};

export type AnyReceipt = ReceiptByType[MessageType];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

const BY_NAME = new Map<string, ReceiptTypeSpec>(RECEIPT_TYPES.map(t => [t.name, t]));

/** The registry entry of a type. */
export function receiptType(type: MessageType): ReceiptTypeSpec {
  return BY_NAME.get(type) as ReceiptTypeSpec;
}

/** Where a receipt came from. */
export type ReceiptSource = 'smq' | 'http';

export type { ChatAppAuditReceipt } from './types/ChatAppAudit.js';
export type { ChatAppInboundReceipt, InboundType } from './types/ChatAppInbound.js';
export type { ChatAppStatusReceipt, StatusName } from './types/ChatAppStatus.js';
export type { SmsReportReceipt } from './types/SmsReport.js';
export type { SmsUpReceipt } from './types/SmsUp.js';
