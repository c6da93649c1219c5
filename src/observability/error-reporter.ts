import type { Logger } from './logger.js';
import { errorMessage } from '../util/error-message.js';

export interface ErrorReporterOptions {
  readonly logger: Logger;
  /** After the first of a run of the same error, one summary line per this interval. */
  readonly intervalMs?: number;
  /** Distinct errors tracked at once; beyond it, errors of one event share one entry. */
  readonly maxKeys?: number;
}

interface Run {
  readonly event: string;
  readonly error: string;
  readonly meta: Readonly<Record<string, unknown>>;
  repeats: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Logs repeated errors without flooding: the first of a kind at once, then one line every `intervalMs` with
 * how many more came (a Redis outage makes every worker and reader fail many times a second). Errors are of
 * one kind when their event, metadata and message match, numbers in the message aside (MOVED slots, ports).
 */
export class ErrorReporter {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #runs = new Map<string, Run>();

  constructor(options: ErrorReporterOptions) {
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 1_000;
  }

  report(event: string, err: unknown, meta: Readonly<Record<string, unknown>> = {}): void {
    const error = errorMessage(err);
    let key = `${event}|${JSON.stringify(meta)}|${error.replace(/\d+/g, '#')}`;
    if (!this.#runs.has(key) && this.#runs.size >= this.#maxKeys) key = event;
    const run = this.#runs.get(key);
    if (run) {
      run.repeats += 1;
      return;
    }
    this.#logger.warn(event.replace(/_/g, ' '), { event, error, ...meta });
    const timer = setInterval(() => this.#summarise(key), this.#intervalMs);
    timer.unref();
    this.#runs.set(key, { event, error, meta, repeats: 0, timer });
  }

  /** Stops the timers, logging what was still unreported. */
  close(): void {
    for (const key of [...this.#runs.keys()]) {
      this.#summarise(key);
      this.#end(key);
    }
  }

  #summarise(key: string): void {
    const run = this.#runs.get(key);
    if (!run) return;
    if (run.repeats === 0) {
      // Quiet for a whole interval: the next occurrence is news again.
      this.#end(key);
      return;
    }
    this.#logger.warn(`${run.event.replace(/_/g, ' ')} (repeated)`, {
      event: run.event,
      error: run.error,
      repeats: run.repeats,
      intervalMs: this.#intervalMs,
      ...run.meta,
    });
    run.repeats = 0;
  }

  #end(key: string): void {
    const run = this.#runs.get(key);
    if (run) clearInterval(run.timer);
    this.#runs.delete(key);
  }
}
