import type { ConsumerHealth, LoopErrorClass } from '../contracts/telemetry.js';
import { SmqError, TokenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../util/error-message.js';

/**
 * How one consumer loop's polls are going, for readiness and for the loop's own pacing: when a poll last
 * succeeded, the last failure and how many came in a row, whether the queue is missing. It also logs each
 * failure, once per episode for a missing queue.
 */
export class PollHealth {
  readonly #logger: Logger;
  /** Where the loop polls, named in the missing-queue message. */
  readonly #endpoint: string;
  #lastPollOkAtMs?: number;
  #lastErrorClass?: LoopErrorClass;
  #lastErrorAtMs?: number;
  #consecutiveFailures = 0;
  #queueMissing = false;
  /** Messages the last poll returned: a non-zero count means a backlog, where polls answer at once. */
  lastPollCount = 0;

  constructor(logger: Logger, endpoint: string) {
    this.#logger = logger;
    this.#endpoint = endpoint;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  snapshot(
    names: { queueName: string; messageType: string },
    running: boolean,
    inFlight: number,
  ): ConsumerHealth {
    return {
      ...names,
      running,
      lastPollOkAtMs: this.#lastPollOkAtMs,
      lastErrorClass: this.#lastErrorClass,
      lastErrorAtMs: this.#lastErrorAtMs,
      consecutiveFailures: this.#consecutiveFailures,
      queueMissing: this.#queueMissing,
      inFlight,
    };
  }

  /** A poll returned (with or without messages). */
  succeeded(atMs: number): void {
    this.#lastPollOkAtMs = atMs;
    this.#consecutiveFailures = 0;
    if (this.#queueMissing) {
      this.#queueMissing = false;
      this.#logger.info('queue is reachable again', { event: 'queue_found' });
    }
  }

  /** A poll failed; the loop waits `delayMs` before the next. */
  failed(err: unknown, errorClass: LoopErrorClass, delayMs: number): void {
    this.#lastErrorClass = errorClass;
    this.#lastErrorAtMs = Date.now();
    this.#consecutiveFailures += 1;
    this.#log(err, errorClass, delayMs);
  }

  /** Redis refused the receipts of a poll: readiness shows it, the poll streak is untouched. */
  storeFailed(atMs: number): void {
    this.#lastErrorClass = 'store';
    this.#lastErrorAtMs = atMs;
  }

  #log(err: unknown, errorClass: LoopErrorClass, delayMs: number): void {
    if (errorClass === 'queue_missing') {
      // Once per episode: the same cause would otherwise be logged on every poll for as long as it lasts.
      if (this.#queueMissing) return;
      this.#queueMissing = true;
      this.#logger.error(
        'queue does not exist: check the queue name (copy it from the CAMS console), the endpoint region and the account id',
        { event: 'queue_missing', endpoint: this.#endpoint, delayMs },
      );
      return;
    }
    const code = err instanceof SmqError ? err.smqCode : undefined;
    const meta = { event: 'poll_failed', errorClass, code, delayMs, error: errorMessage(err) };
    if (errorClass === 'unexpected') {
      this.#logger.error('poll failed unexpectedly', {
        ...meta,
        stack: err instanceof Error ? err.stack : '',
      });
    } else if (errorClass === 'auth') {
      const hint =
        err instanceof TokenError
          ? 'check the AccessKey'
          : 'token refreshed; check the MessageType and queue name';
      this.#logger.warn(`poll failed: credentials rejected (${hint})`, meta);
    } else {
      this.#logger.warn('poll failed', meta);
    }
  }
}
