import type { Handler, HandlerContext } from '../contracts/handler.js';
import type { Logger } from '../contracts/logger.js';
import type { AnyReceipt, ChatAppStatusReceipt } from '../receipts/types.js';
import type { StatusTransition } from '../contracts/status.js';
import type { StatusStore } from './status-store.js';
import type { Attempt, ReceiptJobData } from './job.js';

/** One receipt of a batch: its job's data, key and attempt. */
export interface BatchItem {
  readonly data: ReceiptJobData;
  readonly dedupeKey: string;
  readonly attempt: Attempt;
}

export interface HandlerCallOptions {
  readonly logger: Logger;
  readonly handlerTimeoutMs: number;
  readonly parseInbound: (receipt: AnyReceipt) => unknown;
  /** The delivery state machine behind `ctx.status`; without it `ctx.status` stays undefined. */
  readonly status?: StatusStore;
}

/** Runs one handler on one receipt: builds its `ctx`, and bounds the call by the handler timeout. */
export class HandlerCalls {
  readonly #o: HandlerCallOptions;
  readonly #stopping = new AbortListeners();

  constructor(options: HandlerCallOptions) {
    this.#o = options;
  }

  /** Resolves when the handler returned; rejects when it threw, timed out, or the attempt was aborted. */
  async call(handler: Handler, data: ReceiptJobData, dedupeKey: string, attempt: Attempt): Promise<void> {
    const abort = new LazyAbort();
    const status = await this.#statusFor(handler, data);
    const ctx = this.#context(handler, data, dedupeKey, attempt, abort, status);
    await this.#bounded(attempt.signal, abort, () => handler.handle(data.receipt as never, ctx as never));
  }

  /** One `handleBatch` call for receipts of several jobs, bounded like a single call; resolves with its result. */
  async callBatch(handler: Handler, items: readonly BatchItem[]): Promise<unknown> {
    const abort = new LazyAbort();
    const statuses = await Promise.all(items.map(i => this.#statusFor(handler, i.data)));
    const ctxs = items.map((i, n) =>
      this.#context(handler, i.data, i.dedupeKey, i.attempt, abort, statuses[n]),
    );
    const receipts = items.map(i => i.data.receipt);
    const signal = (items[0] as BatchItem).attempt.signal;
    return this.#bounded(signal, abort, () => handler.handleBatch?.(receipts as never, ctxs as never));
  }

  async #bounded<R>(signal: AbortSignal, abort: LazyAbort, run: () => R | Promise<R>): Promise<R> {
    const { handlerTimeoutMs } = this.#o;
    let timer: NodeJS.Timeout | undefined;
    let forget: (() => void) | undefined;
    try {
      // A handler that ignores its signal still loses the race, so a hung handler cannot pin a worker slot.
      // One timer per call, cleared the moment the handler settles: AbortSignal.timeout would keep every
      // call's timer (and what it holds) alive for handlerTimeoutMs.
      return await new Promise<R>((resolve, reject) => {
        const fail = (error: Error): void => {
          abort.abort(error);
          reject(error);
        };
        if (signal.aborted) return fail(new Error('aborted'));
        forget = this.#stopping.add(signal, () => fail(new Error('aborted')));
        timer = setTimeout(() => fail(new Error(`timed out after ${handlerTimeoutMs} ms`)), handlerTimeoutMs);
        Promise.resolve().then(run).then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
      forget?.();
    }
  }

  /** `ctx.status`: the status applied to its message, for handlers that track it. */
  async #statusFor(handler: Handler, data: ReceiptJobData): Promise<StatusTransition | undefined> {
    if (!handler.trackStatus || data.messageType !== 'ChatAppStatus' || !this.#o.status) return undefined;
    const { MessageId, Status, Timestamp } = data.receipt as ChatAppStatusReceipt;
    return this.#o.status.apply(MessageId, Status, typeof Timestamp === 'number' ? Timestamp : Date.now());
  }

  /** The handler's `ctx`. Built on first use: most handlers never log, parse the message or read their signal. */
  #context(
    handler: Handler,
    data: ReceiptJobData,
    dedupeKey: string,
    attempt: Attempt,
    abort: LazyAbort,
    status: StatusTransition | undefined,
  ): HandlerContext {
    const { logger, parseInbound } = this.#o;
    let childLogger: Logger | undefined;
    let parsed: { value: unknown } | undefined;
    return {
      messageType: data.messageType,
      source: data.source,
      queueName: data.queueName,
      dedupeKey,
      attempt: attempt.number,
      redelivered: attempt.redelivered,
      status,
      get parsedMessage() {
        parsed ??= { value: data.messageType === 'ChatAppInbound' ? parseInbound(data.receipt) : undefined };
        return parsed.value;
      },
      get logger() {
        return (childLogger ??= logger.child({
          handler: handler.name,
          messageType: data.messageType,
          dedupeKey,
        }));
      },
      get signal() {
        return abort.signal;
      },
    };
  }
}

/** An abort whose AbortController exists only once someone asks for its signal (most calls never do). */
class LazyAbort {
  #controller?: AbortController;
  #reason?: Error;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * One 'abort' listener per signal, fanning out to the calls running under it: cheaper than adding and
 * removing a listener on the shared shutdown signal for every handler call.
 */
class AbortListeners {
  readonly #bySignal = new WeakMap<AbortSignal, Set<() => void>>();

  /** Calls `fn` when `signal` aborts; returns what stops that. */
  add(signal: AbortSignal, fn: () => void): () => void {
    let calls = this.#bySignal.get(signal);
    if (!calls) {
      const created = new Set<() => void>();
      signal.addEventListener('abort', () => [...created].forEach(call => call()), { once: true });
      this.#bySignal.set(signal, created);
      calls = created;
    }
    const set = calls;
    set.add(fn);
    return () => set.delete(fn);
  }
}
