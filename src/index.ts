// The public API for handler modules.
export { defineHandler } from './contracts/handler.js';
export type { Handler, HandlerContext } from './contracts/handler.js';
export { PermanentError } from './errors.js';
export type {
  AnyReceipt,
  ChatAppAuditReceipt,
  ChatAppInboundReceipt,
  ChatAppStatusReceipt,
  MessageType,
  ReceiptByType,
  ReceiptSource,
} from './receipts/types.js';
