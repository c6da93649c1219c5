import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../util/error-message.js';

/** One named step of a shutdown. */
export type ShutdownStep = readonly [name: string, run: () => unknown];

/**
 * Runs every step in order, each on its own guard, logging the ones that fail: a failing step must not
 * leave the rest running.
 */
export async function runSteps(logger: Logger, steps: readonly ShutdownStep[]): Promise<void> {
  for (const [step, run] of steps) {
    try {
      await run();
    } catch (err) {
      logger.error(`shutdown step "${step}" failed; continuing with the rest`, {
        event: 'shutdown_step_failed',
        step,
        error: errorMessage(err),
      });
    }
  }
}
