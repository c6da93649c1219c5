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

/** One attempt of a job, as the processor runs it. */
export interface Attempt {
  /** 1-based: failed attempts so far, plus one. What `pipeline.attempts` limits; a crash spends none. */
  readonly number: number;
  readonly isLast: boolean;
  /** Times a worker died (or lost its lock) while running this job. */
  readonly stalls: number;
  /** The handlers may have run for this receipt before (see HandlerContext.redelivered). */
  readonly redelivered: boolean;
  readonly signal: AbortSignal;
  readonly jobId?: string;
}

/**
 * Another worker holds a handler's lease for this receipt (or held it when it crashed): try the job
 * again once the lease lapses, without spending an attempt.
 */
export class HandlerBusyError extends Error {
  constructor(readonly retryInMs: number) {
    super(`a handler is running elsewhere for this receipt; retrying in ${retryInMs} ms`);
    this.name = 'HandlerBusyError';
  }
}

/** Thrown when the job must not be retried: it has been dead-lettered. */
export class DeadLetteredError extends Error {
  constructor(
    readonly entryId: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeadLetteredError';
  }
}
