import type { Logger } from '../contracts/logger.js';
import { logFailedAttempt } from './attempt-log.js';
import type { HandlerFinished, JobFinished } from '../contracts/telemetry.js';
import { PermanentError } from '../errors.js';
import type { Handler, HandlerLookup, HandlerSource } from '../contracts/handler.js';
import type { AnyReceipt } from '../receipts/types.js';
import type { Finished, IdempotencyStore } from './idempotency.js';
import { sortOutcomes, type LeasedRun, type Outcome, type SortedOutcomes } from './outcomes.js';
import { HandlerCalls } from './handler-call.js';
import { BatchCalls } from './batch.js';
import { SerialAttempt, type SerialLeases } from './serialize.js';
import type { StatusStore } from './status-store.js';
import {
  DeadLetteredError,
  HandlerBusyError,
  type Attempt,
  type ReceiptJobData,
  type ReceiptJobResult,
} from './job.js';
import { delay } from '../util/async.js';
import type { DeadLetterSink, JobOutcome } from '../contracts/pipeline.js';
import { errorMessage } from '../util/error-message.js';

/** A source that never changes its set (embedding, benchmarks). */
export function fixedHandlers(set: HandlerLookup): HandlerSource {
  return { acquire: () => set, release: () => undefined };
}

export interface ProcessorOptions {
  readonly handlers: HandlerSource;
  readonly idempotency: IdempotencyStore;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly handlerTimeoutMs: number;
  /** Stalls a job may have before its receipt is dead-lettered as `stalled` (pipeline.maxStalledCount). */
  readonly maxStalledCount: number;
  readonly parseInbound: (receipt: AnyReceipt) => unknown;
  readonly onHandlerFinished?: (event: HandlerFinished) => void;
  /** Called once per attempt, after its outcome is known (metrics: processed, end-to-end latency). */
  readonly onJobFinished?: (event: JobFinished) => void;
  /** Per-key leases for handlers with `serializeBy`; without them `serializeBy` is not honoured. */
  readonly serial?: SerialLeases;
  /** The delivery state machine behind `ctx.status` (handlers with `trackStatus`). */
  readonly status?: StatusStore;
}

/** A handler's lease outlives its timeout by this much: time to write its record. */
const LEASE_MARGIN_MS = 5_000;
/** Retries of a commit start this short and double up to the max. */
const COMMIT_RETRY_BASE_MS = 50;
const COMMIT_RETRY_MAX_MS = 500;
/** How long a commit of only the completion entry (no lease to respect) is retried. */
const ENTRY_RETRY_MS = 5_000;

/**
 * Runs every handler registered for a receipt's type, each at most once per dedupe key. Handlers
 * that already completed (on an earlier attempt, an earlier job, or another host) are skipped, so a
 * retry re-runs only the ones that failed.
 */
export class ReceiptProcessor {
  private readonly calls: HandlerCalls;
  private readonly batches: BatchCalls;

  constructor(private readonly opts: ProcessorOptions) {
    this.calls = new HandlerCalls(opts);
    this.batches = new BatchCalls(this.calls);
  }

  async process(data: ReceiptJobData, attempt: Attempt): Promise<ReceiptJobResult> {
    const set = this.opts.handlers.acquire();
    const serial = new SerialAttempt(this.opts.serial, data, attempt.jobId);
    try {
      return await this.processWith(set, data, attempt, serial);
    } finally {
      this.opts.handlers.release(set);
      await serial.leave();
    }
  }

  private async processWith(
    set: HandlerLookup,
    data: ReceiptJobData,
    attempt: Attempt,
    serial: SerialAttempt,
  ): Promise<ReceiptJobResult> {
    const handlers = set.handlersFor(data.messageType);
    if (attempt.stalls > this.opts.maxStalledCount) {
      // Workers kept dying while running this receipt: running it again would crash another process.
      const error = `workers stopped ${attempt.stalls} times while running this receipt (pipeline.maxStalledCount is ${this.opts.maxStalledCount})`;
      return this.deadLetter(
        data,
        attempt,
        'stalled',
        error,
        handlers.map(h => h.name),
        0,
      );
    }
    const outcomes = sortOutcomes(
      await Promise.all(handlers.map(h => this.runOnce(set, h, data, attempt, serial))),
    );
    const ran = outcomes.ran.map(r => r.handler);
    if (outcomes.failed.length > 0) return this.failedAttempt(data, attempt, outcomes);
    if (outcomes.busy.length > 0) {
      await this.commit(outcomes.ran);
      this.jobFinished(data, attempt, 'retry', ran.length);
      throw new HandlerBusyError(Math.max(...outcomes.busy.map(b => b.retryInMs)));
    }
    // The handlers' records and the job's finished record in one round trip.
    await this.commit(outcomes.ran, this.finishedRecord(data, attempt, 'completed'));
    this.jobFinished(data, attempt, 'completed', ran.length);
    return { ran, skipped: outcomes.skipped };
  }

  /**
   * Some handler failed: what ran is recorded, the failed handlers' leases are let go, and the job is
   * retried, or dead-lettered after its last attempt (at once for a PermanentError).
   */
  private async failedAttempt(
    data: ReceiptJobData,
    attempt: Attempt,
    outcomes: SortedOutcomes,
  ): Promise<never> {
    const { failed } = outcomes;
    await this.commit(outcomes.ran);
    await Promise.all(
      failed.map(f => this.opts.idempotency.release(f.handler, f.key, f.token).catch(() => undefined)),
    );
    const permanent = failed.some(f => f.error instanceof PermanentError);
    const summary = failed.map(f => `${f.handler}: ${errorMessage(f.error)}`).join('; ');
    logFailedAttempt(this.opts.logger, data, attempt, failed, !permanent && !attempt.isLast);
    if (!permanent && !attempt.isLast) {
      this.jobFinished(data, attempt, 'retry', outcomes.ran.length);
      throw new Error(summary);
    }
    const reason = permanent ? 'permanent' : 'failed';
    return this.deadLetter(
      data,
      attempt,
      reason,
      summary,
      failed.map(f => f.handler),
      outcomes.ran.length,
    );
  }

  /** Parks the receipt, records that its job finished, and ends the job without further attempts. */
  private async deadLetter(
    data: ReceiptJobData,
    attempt: Attempt,
    reason: 'failed' | 'permanent' | 'stalled',
    error: string,
    handlers: readonly string[],
    ran: number,
  ): Promise<never> {
    const entryId = await this.opts.deadLetters.park({
      messageType: data.messageType,
      source: data.source,
      reason,
      error,
      receipt: data.receipt,
      queueName: data.queueName,
      jobId: attempt.jobId,
      handlers,
    });
    const finished = this.finishedRecord(data, attempt, 'dead_lettered');
    if (finished) await this.commit([], finished);
    this.opts.logger.warn('receipt dead-lettered', {
      event: 'receipt_dead_lettered',
      messageType: data.messageType,
      dedupeKey: data.dedupeKey,
      attempt: attempt.number,
      reason,
      error,
      deadLetterId: entryId,
    });
    this.jobFinished(data, attempt, 'dead_lettered', ran, reason);
    throw new DeadLetteredError(entryId, error);
  }

  /**
   * Records what ran. A handler that finished while Redis was away must not run again because its record
   * could not be written: while its lease still keeps every other worker off the receipt, the write is
   * retried with a short backoff. Past that, the error goes to BullMQ and the job is tried again.
   */
  private async commit(ran: readonly LeasedRun[], finished?: Finished): Promise<void> {
    const deadline =
      ran.length > 0 ? Math.min(...ran.map(r => r.leaseEndsAtMs)) : Date.now() + ENTRY_RETRY_MS;
    for (let waitMs = COMMIT_RETRY_BASE_MS; ; waitMs = Math.min(waitMs * 2, COMMIT_RETRY_MAX_MS)) {
      try {
        await this.opts.idempotency.commit(ran, finished);
        return;
      } catch (err) {
        if (Date.now() + waitMs >= deadline) throw err;
        await delay(waitMs);
      }
    }
  }

  /** What tells pollers the job finished; none for a run outside a BullMQ job. */
  private finishedRecord(data: ReceiptJobData, attempt: Attempt, outcome: JobOutcome): Finished | undefined {
    return attempt.jobId ? { type: data.messageType, jobId: attempt.jobId, outcome } : undefined;
  }

  private jobFinished(
    data: ReceiptJobData,
    attempt: Attempt,
    outcome: JobFinished['outcome'],
    ran: number,
    reason?: JobFinished['reason'],
  ): void {
    try {
      this.opts.onJobFinished?.({
        messageType: data.messageType,
        source: data.source,
        queueName: data.queueName,
        originTimeMs: data.originTimeMs,
        attempt: attempt.number,
        outcome,
        ran,
        ...(reason ? { reason } : {}),
      });
    } catch {
      // A metrics hook must never change a job's outcome.
    }
  }

  /** Claims and runs one handler; its completion is recorded by `process`, with the rest of the attempt. */
  private async runOnce(
    set: HandlerLookup,
    handler: Handler,
    data: ReceiptJobData,
    attempt: Attempt,
    serial: SerialAttempt,
  ): Promise<Outcome> {
    const key = set.dedupeKeyFor(handler, data.messageType, data.receipt);
    const leaseMs = this.opts.handlerTimeoutMs + LEASE_MARGIN_MS;
    const waitMs = await serial.enter(handler, leaseMs);
    if (waitMs !== undefined) return { handler: handler.name, state: 'busy', retryInMs: waitMs };
    const claimedAtMs = Date.now();
    const claim = await this.opts.idempotency.claim(handler.name, key, leaseMs);
    if (claim.state === 'done') return { handler: handler.name, state: 'skipped' };
    if (claim.state === 'busy') return { handler: handler.name, state: 'busy', retryInMs: claim.retryInMs };
    const started = Date.now();
    try {
      await (handler.handleBatch ? this.batches : this.calls).call(handler, data, key, attempt);
      this.finished(handler, data, started, true);
      return {
        handler: handler.name,
        state: 'ran',
        ran: {
          handler: handler.name,
          dedupeKey: key,
          token: claim.token,
          // Retries of the record stop a margin before the lease lapses and another worker may claim it.
          leaseEndsAtMs: claimedAtMs + leaseMs - LEASE_MARGIN_MS / 2,
        },
      };
    } catch (error) {
      this.finished(handler, data, started, false);
      return { handler: handler.name, state: 'failed', error, key, token: claim.token };
    }
  }

  private finished(handler: Handler, data: ReceiptJobData, started: number, ok: boolean): void {
    this.opts.onHandlerFinished?.({
      handler: handler.name,
      messageType: data.messageType,
      durationMs: Date.now() - started,
      ok,
    });
  }
}
