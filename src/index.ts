// The public API for handler modules.
export { defineHandler } from './contracts/handler.js';
export type { BatchResult, Handler, HandlerContext } from './contracts/handler.js';
export type { StatusEvent, StatusTransition } from './contracts/status.js';
export { PermanentError } from './errors.js';
export type {
  AnyReceipt,
  ChatAppAuditReceipt,
  ChatAppInboundReceipt,
  ChatAppStatusReceipt,
  InboundType,
  MessageType,
  ReceiptByType,
  ReceiptSource,
  SmsReportReceipt,
  SmsUpReceipt,
  StatusName,
} from './receipts/types.js';
