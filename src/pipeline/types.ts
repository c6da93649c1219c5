import type { AnyReceipt, MessageType, ReceiptSource } from '../receipts/types.js';

/** A validated receipt on its way into BullMQ. */
export interface ReceiptEnvelope {
  readonly messageType: MessageType;
  readonly receipt: AnyReceipt;
  readonly source: ReceiptSource;
  /** The SMQ queue it came from; undefined for HTTP push. */
  readonly queueName?: string;
  /** When it entered the system: SMQ EnqueueTime, or HTTP arrival (epoch ms). */
  readonly originTimeMs: number;
  /** Seen before: an SMQ message received more than once, or a dead-letter replay. */
  readonly redelivered?: boolean;
}

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

export type DeadLetterReason = 'decode' | 'invalid' | 'failed' | 'permanent' | 'stalled';

/** Something that could not be processed, kept with everything needed to inspect or replay it. */
export interface DeadLetterInput {
  readonly messageType: MessageType;
  readonly source: ReceiptSource;
  /**
   * `decode` (not a receipt), `invalid` (missing fields), `failed` (handler gave up), `permanent`
   * (PermanentError), `stalled` (workers kept dying while running it: a receipt that crashes the process).
   */
  readonly reason: DeadLetterReason;
  readonly error: string;
  /** The receipt when it decoded, otherwise undefined. */
  readonly receipt?: AnyReceipt;
  /** The raw text as it arrived, for bodies that did not decode or validate. */
  readonly raw?: string;
  readonly queueName?: string;
  readonly jobId?: string;
  /** SMQ metadata: MessageId, DequeueCount, EnqueueTime… */
  readonly smq?: Readonly<Record<string, string | number>>;
  /** Handlers that had not completed, for failed jobs. */
  readonly handlers?: readonly string[];
  /**
   * A stable id for input that may arrive again (a pushed item CAMS retries after a 503): parking it
   * twice keeps one entry. Random when omitted.
   */
  readonly id?: string;
}

export interface DeadLetterEntry extends DeadLetterInput {
  readonly id: string;
  readonly atMs: number;
}

/** The dead-letter store. `park` resolves only once Redis acknowledged the write. */
export interface DeadLetterSink {
  park(entry: DeadLetterInput): Promise<string>;
}

/** A job disappeared before it finished, e.g. Redis restarted without persistence. */
export class JobLostError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} vanished before it finished`);
    this.name = 'JobLostError';
  }
}
