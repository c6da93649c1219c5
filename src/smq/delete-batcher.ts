import type { Logger } from '../observability/logger.js';
import { sleep } from '../util/async.js';
import { Backoff } from './backoff.js';
import { toSmqError } from './classify.js';
import { SafeEmitter } from './safe-emitter.js';
import type { SmqQueueClient } from './types.js';

export interface DeleteBatcherEvents {
  deleted: [{ count: number }];
  /** `code` is the SMQ code of a failed entry, or of the whole call when it gave up. */
  delete_failed: [{ code: string; count: number }];
}

export interface DeleteBatcherOptions {
  readonly client: SmqQueueClient;
  /** Send a partial batch after this long. */
  readonly flushMs: number;
  /** BatchDeleteMessage takes at most 16 handles. */
  readonly maxBatch?: number;
  /** Tries of one batch whose whole call failed for a transient reason. */
  readonly attempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly logger: Logger;
  readonly random?: () => number;
}

/** Whole-call failures worth repeating: the batch may well succeed a moment later. */
const TRANSIENT = new Set(['network', 'server', 'throttled', 'auth']);

/**
 * Buffers receipt handles and deletes them with BatchDeleteMessage, 16 at a time or after `flushMs`.
 * Every entry's result is checked; a handle that no longer works (MessageNotExist, ReceiptHandleError)
 * is counted, not fatal: the message redelivers and its job is already done, so it is deleted then.
 */
export class DeleteBatcher extends SafeEmitter<DeleteBatcherEvents> {
  readonly #client: SmqQueueClient;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  readonly #attempts: number;
  readonly #retry: { baseMs: number; maxMs: number; random?: () => number };
  #buffer: string[] = [];
  #timer?: NodeJS.Timeout;
  readonly #inflight = new Set<Promise<void>>();
  #inflightHandles = 0;

  constructor(options: DeleteBatcherOptions) {
    super(options.logger);
    this.#client = options.client;
    this.#flushMs = options.flushMs;
    this.#maxBatch = Math.min(16, options.maxBatch ?? 16);
    // About 9 s of retries (200 ms doubling to 2 s): an SMQ hiccup or a token refresh rarely outlasts it,
    // and giving up costs a redelivery only after the message's whole visibility timeout.
    this.#attempts = options.attempts ?? 8;
    this.#retry = {
      baseMs: options.retryBaseMs ?? 200,
      maxMs: options.retryMaxMs ?? 2_000,
      random: options.random,
    };
  }

  /** Handles buffered or being deleted. */
  get pending(): number {
    return this.#buffer.length + this.#inflightHandles;
  }

  add(receiptHandle: string): void {
    this.#buffer.push(receiptHandle);
    if (this.#buffer.length >= this.#maxBatch) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), this.#flushMs);
  }

  /** Sends whatever is buffered and resolves when every batch, retries included, has finished. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0) this.#send();
    await Promise.all([...this.#inflight]);
  }

  #send(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#buffer.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    this.#inflightHandles += batch.length;
    const done = this.#deleteWithRetry(batch).finally(() => {
      this.#inflightHandles -= batch.length;
      this.#inflight.delete(done);
    });
    this.#inflight.add(done);
    if (this.#buffer.length > 0) this.#timer = setTimeout(() => this.#send(), this.#flushMs);
  }

  /** Never rejects: the outcome is reported through events. */
  async #deleteWithRetry(batch: string[]): Promise<void> {
    const backoff = new Backoff(this.#retry);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const failures = await this.#client.deleteBatch(batch);
        this.#report(batch.length, failures);
        return;
      } catch (err) {
        const error = toSmqError(err, 'deleteBatch');
        const retry = TRANSIENT.has(error.errorClass) && attempt < this.#attempts;
        this.logger.warn(
          retry ? 'batch delete failed; retrying' : 'batch delete failed; messages will redeliver',
          {
            event: 'delete_failed',
            errorClass: error.errorClass,
            code: error.smqCode,
            count: batch.length,
            attempt,
            error: error.message,
          },
        );
        if (!retry) {
          this.emitSafely('delete_failed', { code: error.smqCode ?? error.errorClass, count: batch.length });
          return;
        }
        await sleep(backoff.next());
      }
    }
  }

  #report(total: number, failures: readonly { errorCode: string; receiptHandle: string }[]): void {
    const deleted = total - failures.length;
    if (deleted > 0) this.emitSafely('deleted', { count: deleted });
    const byCode = new Map<string, number>();
    for (const f of failures) byCode.set(f.errorCode, (byCode.get(f.errorCode) ?? 0) + 1);
    for (const [code, count] of byCode) {
      this.logger.info('delete entries failed; the messages will redeliver and be deleted then', {
        event: 'delete_failed',
        code,
        count,
      });
      this.emitSafely('delete_failed', { code, count });
    }
  }
}
