export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(max, base·2^attempt)].
 * Many loops failing together (a throttled account, a restarted server) spread out instead of retrying in step.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
      throw new RangeError(
        `Expected 0 < baseMs <= maxMs, got baseMs=${options.baseMs} maxMs=${options.maxMs}`,
      );
    }
    this.#baseMs = options.baseMs;
    this.#maxMs = options.maxMs;
    this.#random = options.random ?? Math.random;
  }

  /** Failures in a row since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    const ceilingMs = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(this.#random() * ceilingMs);
  }

  /** Call after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}
