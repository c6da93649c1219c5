import type { Logger } from 'winston';
import { PermanentError } from '../errors.js';
import type { Handler, HandlerContext } from '../handlers/types.js';
import type { AnyReceipt, MessageType } from '../receipts/types.js';
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

/** Thrown when the job must not be retried: it has been dead-lettered. */
export class DeadLetteredError extends Error {
  constructor(readonly entryId: string, message: string) {
    super(message);
    this.name = 'DeadLetteredError';
  }
}

type Outcome =
  | { readonly handler: string; readonly state: 'ran' | 'skipped' }
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
    if (failed.length === 0) {
      return {
        ran: outcomes.filter(o => o.state === 'ran').map(o => o.handler),
        skipped: outcomes.filter(o => o.state === 'skipped').map(o => o.handler),
      };
    }
    const permanent = failed.some(f => f.error instanceof PermanentError);
    const summary = failed.map(f => `${f.handler}: ${errorMessage(f.error)}`).join('; ');
    if (!permanent && !attempt.isLast) throw new Error(summary);
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
    throw new DeadLetteredError(entryId, summary);
  }

  private async runOnce(handler: Handler, data: ReceiptJobData, attempt: Attempt): Promise<Outcome> {
    const key = this.opts.handlers.dedupeKeyFor(handler, data.messageType, data.receipt);
    const claim = await this.opts.idempotency.claim(handler.name, key, this.opts.handlerTimeoutMs + 5000);
    if (claim.state === 'done') return { handler: handler.name, state: 'skipped' };
    if (claim.state === 'busy') {
      return { handler: handler.name, state: 'failed', error: new Error('already running elsewhere for this receipt') };
    }
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

  private async invoke(handler: Handler, data: ReceiptJobData, dedupeKey: string, attempt: Attempt): Promise<void> {
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
          reject(timeout.aborted ? new Error(`timed out after ${this.opts.handlerTimeoutMs} ms`) : new Error('aborted'));
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
