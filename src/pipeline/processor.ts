import type { Logger } from 'winston';
import { PermanentError } from '../errors.js';
import type { Handler, HandlerContext } from '../handlers/types.js';
import type { AnyReceipt, MessageType, ReceiptSource } from '../receipts/types.js';
import type { IdempotencyStore } from './idempotency.js';
import type { ReceiptJobData, ReceiptJobResult } from './job.js';
import type { DeadLetterSink } from './types.js';

/** The part of the handler registry the processor needs. */
export interface HandlerLookup {
  handlersFor(type: MessageType): readonly Handler[];
  dedupeKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string;
}

export interface ProcessorOptions {
  readonly handlers: HandlerLookup;
  readonly idempotency: IdempotencyStore;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly handlerTimeoutMs: number;
  readonly parseInbound: (receipt: AnyReceipt) => unknown;
  readonly onHandlerFinished?: (event: HandlerFinished) => void;
  /** Called once per attempt, after its outcome is known (metrics: processed, end-to-end latency). */
  readonly onJobFinished?: (event: JobFinished) => void;
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
  readonly reason?: 'failed' | 'permanent';
  /** Handlers that ran in this attempt (0 when every handler had already completed the receipt). */
  readonly ran: number;
}

export interface HandlerFinished {
  readonly handler: string;
  readonly messageType: MessageType;
  readonly durationMs: number;
  readonly ok: boolean;
}

export interface Attempt {
  /** 1-based. */
  readonly number: number;
  readonly isLast: boolean;
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

type Outcome =
  | { readonly handler: string; readonly state: 'ran' | 'skipped' }
  | { readonly handler: string; readonly state: 'busy'; readonly retryInMs: number }
  | { readonly handler: string; readonly state: 'failed'; readonly error: unknown };

/**
 * Runs every handler registered for a receipt's type, each at most once per dedupe key. Handlers
 * that already completed (on an earlier attempt, an earlier job, or another host) are skipped, so a
 * retry re-runs only the ones that failed.
 */
export class ReceiptProcessor {
  constructor(private readonly opts: ProcessorOptions) {}

  async process(data: ReceiptJobData, attempt: Attempt): Promise<ReceiptJobResult> {
    const handlers = this.opts.handlers.handlersFor(data.messageType);
    const outcomes = await Promise.all(handlers.map(h => this.runOnce(h, data, attempt)));
    const failed = outcomes.filter((o): o is Extract<Outcome, { state: 'failed' }> => o.state === 'failed');
    const ran = outcomes.filter(o => o.state === 'ran').map(o => o.handler);
    const busy = outcomes.filter((o): o is Extract<Outcome, { state: 'busy' }> => o.state === 'busy');
    if (failed.length === 0 && busy.length > 0) {
      this.jobFinished(data, attempt, 'retry', ran.length);
      throw new HandlerBusyError(Math.max(...busy.map(b => b.retryInMs)));
    }
    if (failed.length === 0) {
      this.jobFinished(data, attempt, 'completed', ran.length);
      return { ran, skipped: outcomes.filter(o => o.state === 'skipped').map(o => o.handler) };
    }
    const permanent = failed.some(f => f.error instanceof PermanentError);
    const summary = failed.map(f => `${f.handler}: ${errorMessage(f.error)}`).join('; ');
    if (!permanent && !attempt.isLast) {
      this.jobFinished(data, attempt, 'retry', ran.length);
      throw new Error(summary);
    }
    const entryId = await this.opts.deadLetters.park({
      messageType: data.messageType,
      source: data.source,
      reason: permanent ? 'permanent' : 'failed',
      error: summary,
      receipt: data.receipt,
      queueName: data.queueName,
      jobId: attempt.jobId,
      handlers: failed.map(f => f.handler),
    });
    this.opts.logger.warn('receipt dead-lettered', {
      event: 'receipt_dead_lettered',
      messageType: data.messageType,
      dedupeKey: data.dedupeKey,
      attempt: attempt.number,
      reason: permanent ? 'permanent' : 'failed',
      error: summary,
      deadLetterId: entryId,
    });
    this.jobFinished(data, attempt, 'dead_lettered', ran.length, permanent ? 'permanent' : 'failed');
    throw new DeadLetteredError(entryId, summary);
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

  private async runOnce(handler: Handler, data: ReceiptJobData, attempt: Attempt): Promise<Outcome> {
    const key = this.opts.handlers.dedupeKeyFor(handler, data.messageType, data.receipt);
    const claim = await this.opts.idempotency.claim(handler.name, key, this.opts.handlerTimeoutMs + 5000);
    if (claim.state === 'done') return { handler: handler.name, state: 'skipped' };
    if (claim.state === 'busy') return { handler: handler.name, state: 'busy', retryInMs: claim.retryInMs };
    const started = Date.now();
    try {
      await this.invoke(handler, data, key, attempt);
      await this.opts.idempotency.complete(handler.name, key, claim.token);
      this.finished(handler, data, started, true);
      return { handler: handler.name, state: 'ran' };
    } catch (error) {
      this.finished(handler, data, started, false);
      await this.opts.idempotency.release(handler.name, key, claim.token).catch(() => undefined);
      return { handler: handler.name, state: 'failed', error };
    }
  }

  private async invoke(
    handler: Handler,
    data: ReceiptJobData,
    dedupeKey: string,
    attempt: Attempt,
  ): Promise<void> {
    const timeout = AbortSignal.timeout(this.opts.handlerTimeoutMs);
    const signal = AbortSignal.any([timeout, attempt.signal]);
    const ctx: HandlerContext = {
      messageType: data.messageType,
      source: data.source,
      queueName: data.queueName,
      dedupeKey,
      attempt: attempt.number,
      parsedMessage: data.messageType === 'ChatAppInbound' ? this.opts.parseInbound(data.receipt) : undefined,
      logger: this.opts.logger.child({ handler: handler.name, messageType: data.messageType, dedupeKey }),
      signal,
    };
    // A handler that ignores its signal still loses the race, so a hung handler cannot pin a worker slot.
    await Promise.race([
      Promise.resolve().then(() => handler.handle(data.receipt as never, ctx as never)),
      new Promise<never>((_, reject) => {
        const onAbort = () =>
          reject(
            timeout.aborted
              ? new Error(`timed out after ${this.opts.handlerTimeoutMs} ms`)
              : new Error('aborted'),
          );
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
