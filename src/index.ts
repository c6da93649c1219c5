// The public API for handler modules.
export { defineHandler } from './handlers/types.js';
export type { Handler, HandlerContext } from './handlers/types.js';
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
