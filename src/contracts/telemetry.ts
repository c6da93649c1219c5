import type { SmqErrorClass } from '../errors.js';
import type { MessageType, ReceiptSource } from '../receipts/types.js';

/*
 * What the running parts report about themselves, and what metrics and readiness read. The parts (smq/,
 * http/, pipeline/) emit these shapes; observability/ listens to them without importing the parts.
 */

/** Failures the consumer loop backs off on: an SMQ class, a Redis write that failed, or a bug. */
export type LoopErrorClass = SmqErrorClass | 'store' | 'unexpected';

/** Why a message's lease was given up (it redelivers). */
export type LeaseLossReason = 'max_lease' | 'visibility_passed' | 'handle_lost';

/** The events of one SMQ consumer loop. */
export interface ConsumerEvents {
  /** Messages a poll returned. */
  received: [{ count: number }];
  /** Receipts that became new jobs (or joined an unfinished one). */
  enqueued: [{ count: number }];
  /** Receipts whose job had already finished: duplicates collapsed. */
  duplicate: [{ count: number }];
  deleted: [{ count: number }];
  delete_failed: [{ code: string; count: number }];
  lease_extended: [{ messageId: string }];
  lease_expired: [{ messageId: string; reason: LeaseLossReason }];
  backoff: [{ errorClass: LoopErrorClass; delayMs: number }];
  /** A poll returned (with or without messages): the loop is alive. */
  poll_completed: [{ atMs: number; count: number }];
  dead_lettered: [{ reason: 'decode' | 'invalid' }];
  stopped: [];
  /** Unexpected failures (bugs); the loop carries on. */
  error: [Error];
}

/** What one consumer loop says about itself (`SmqConsumer.health()`). */
export interface ConsumerHealth {
  readonly queueName: string;
  readonly messageType: string;
  readonly running: boolean;
  readonly lastPollOkAtMs?: number;
  readonly lastErrorClass?: LoopErrorClass;
  readonly lastErrorAtMs?: number;
  /** Polls failing in a row. */
  readonly consecutiveFailures: number;
  readonly queueMissing: boolean;
  readonly inFlight: number;
}

/** One SMQ token (`TokenProvider.status()`). */
export interface TokenStatus {
  readonly messageType: string;
  readonly queueName: string;
  readonly expireAtMs?: number;
  readonly lastErrorClass?: string;
}

/** The events of the token provider. */
export interface TokenEvents {
  token_refreshed: [{ messageType: string; queueName: string; expireAtMs: number }];
  token_failed: [{ messageType: string; queueName: string; errorClass: string }];
  token_forgotten: [{ messageType: string; queueName: string }];
}

/** One finished push request. */
export interface PushEvent {
  readonly messageType: MessageType;
  /** The HTTP status replied. */
  readonly status: number;
  /** Valid receipts in the body (stored when status is 200). */
  readonly receipts: number;
  /** Items that failed validation (parked in the dead-letter store when status is 200). */
  readonly invalid: number;
  readonly durationMs: number;
}

/** One handler attempt, finished. */
export interface HandlerFinished {
  readonly handler: string;
  readonly messageType: MessageType;
  readonly durationMs: number;
  readonly ok: boolean;
}

/** One attempt of a job, finished. */
export interface JobFinished {
  readonly messageType: MessageType;
  readonly source: ReceiptSource;
  readonly queueName?: string;
  /** When the receipt entered the system (SMQ EnqueueTime or HTTP arrival), epoch ms. */
  readonly originTimeMs: number;
  readonly attempt: number;
  /** `completed`: every handler done; `retry`: BullMQ tries again; `dead_lettered`: parked with `reason`. */
  readonly outcome: 'completed' | 'retry' | 'dead_lettered';
  readonly reason?: 'failed' | 'permanent' | 'stalled';
  /** Handlers that ran in this attempt (0 when every handler had already completed the receipt). */
  readonly ran: number;
}

/** A typed event source, as the parts' emitters are. */
export interface Observable<T extends Record<keyof T, unknown[]>> {
  on<K extends keyof T & string>(event: K, listener: (...args: T[K]) => void): unknown;
  off<K extends keyof T & string>(event: K, listener: (...args: T[K]) => void): unknown;
}
