import type { DeadLetterInput, ReceiptEnvelope } from '../receipts/envelope.js';
import type { MessageType } from '../receipts/types.js';

/* The ports the sources (SMQ, HTTP push, replay) write through; the pipeline implements them. */

export interface SubmitResult {
  readonly jobId: string;
  /** The job had already finished (the receipt is a duplicate of one already processed). */
  readonly finished: boolean;
}

/**
 * Puts receipts into BullMQ. Resolves only after Redis acknowledged every job;
 * rejects with StoreError when Redis is unreachable, so the caller keeps the receipts.
 */
export interface ReceiptSink {
  submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]>;
}

/** Tells whether the store answers now: one cheap round trip, to resume at once when it is back. */
export interface StoreProbe {
  probe(): Promise<boolean>;
}

export type JobOutcome = 'completed' | 'dead_lettered';

/**
 * Tells a poller when a job it is waiting on has finished, from BullMQ's event stream
 * (so it works whether the worker is in this process or another host).
 */
export interface CompletionSource {
  /**
   * Resolves when the job completed or was dead-lettered. Rejects with JobLostError when the job
   * vanished unfinished (Redis lost its data): the source must keep the receipt and deliver it again.
   * Rejects with an AbortError on abort.
   */
  wait(messageType: MessageType, jobId: string, signal?: AbortSignal): Promise<JobOutcome>;
}

/** The dead-letter store. `park` resolves only once Redis acknowledged the write. */
export interface DeadLetterSink {
  park(entry: DeadLetterInput): Promise<string>;
}
