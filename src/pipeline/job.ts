import type { AnyReceipt, MessageType, ReceiptSource } from '../receipts/types.js';

/** What a BullMQ job carries. Kept small: the receipt and where it came from. */
export interface ReceiptJobData {
  readonly messageType: MessageType;
  readonly receipt: AnyReceipt;
  readonly source: ReceiptSource;
  readonly queueName?: string;
  readonly dedupeKey: string;
  readonly originTimeMs: number;
  /** Set (true) only when the receipt was seen before: see ReceiptEnvelope.redelivered. */
  readonly redelivered?: boolean;
}

/** A job's return value: which handlers ran (the others had already completed the receipt). */
export interface ReceiptJobResult {
  readonly ran: readonly string[];
  readonly skipped: readonly string[];
}
