import type { AnyReceipt, MessageType, ReceiptSource } from './types.js';

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
