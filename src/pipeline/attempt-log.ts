import type { Logger } from '../contracts/logger.js';
import { errorMessage } from '../util/error-message.js';
import type { Attempt, ReceiptJobData } from './job.js';

/** A handler that failed in one attempt. */
export interface FailedHandler {
  readonly handler: string;
  readonly key: string;
  readonly error: unknown;
}

/**
 * One warn line per handler that failed an attempt, with the attempt's number and whether the receipt is
 * retried: a handler that keeps failing shows in the log before its receipt is dead-lettered.
 */
export function logFailedAttempt(
  logger: Logger,
  data: ReceiptJobData,
  attempt: Attempt,
  failed: readonly FailedHandler[],
  willRetry: boolean,
): void {
  for (const f of failed) {
    logger.warn('handler attempt failed', {
      event: 'handler_attempt_failed',
      handler: f.handler,
      messageType: data.messageType,
      dedupeKey: f.key,
      attempt: attempt.number,
      willRetry,
      error: errorMessage(f.error),
    });
  }
}
