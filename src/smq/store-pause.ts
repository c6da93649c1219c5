import type { StoreProbe } from '../contracts/pipeline.js';
import type { Logger } from '../observability/logger.js';
import { sleep } from '../util/async.js';
import type { Backoff } from './backoff.js';

/** How often a loop paused by a store failure checks whether Redis takes writes again. */
const STORE_PROBE_MS = 500;

/**
 * The pause of a consumer loop after Redis refused its receipts. Polling waits until the backoff passes,
 * or less: while paused, the store is probed every STORE_PROBE_MS, and once it takes writes the pause ends
 * and the backoff resets. Failures during a pause are one episode and do not step the backoff further.
 */
export class StorePause {
  readonly #probe: StoreProbe;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  /** Aborted when the loop stops: ends every sleep here at once. */
  readonly #stopped: AbortSignal;
  #untilMs = 0;
  /** Ends the pause sleep in progress. */
  #wake?: () => void;
  #watching = false;

  constructor(options: { probe: StoreProbe; backoff: Backoff; logger: Logger; stopped: AbortSignal }) {
    this.#probe = options.probe;
    this.#backoff = options.backoff;
    this.#logger = options.logger;
    this.#stopped = options.stopped;
  }

  /** How much longer polling pauses; 0 or less when it does not. */
  remainingMs(nowMs = Date.now()): number {
    return this.#untilMs - nowMs;
  }

  /** Redis refused a write: starts (or continues) the pause and returns how long it has left. */
  failed(nowMs: number): number {
    if (this.#untilMs <= nowMs) this.#untilMs = nowMs + this.#backoff.next();
    this.#watch();
    return this.#untilMs - nowMs;
  }

  /** Redis took a write. */
  stored(): void {
    this.#backoff.reset();
  }

  /** Sleeps out the pause, or less when the probe finds the store writable or the loop stops. */
  async sleep(ms: number): Promise<void> {
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    await sleep(ms, AbortSignal.any([wake.signal, this.#stopped]));
    this.#wake = undefined;
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    void (async () => {
      while (!this.#stopped.aborted && Date.now() < this.#untilMs) {
        await sleep(STORE_PROBE_MS, this.#stopped);
        if (this.#stopped.aborted || !(await this.#probe.probe())) continue;
        this.#backoff.reset();
        this.#untilMs = 0;
        this.#wake?.();
        this.#logger.info('the store takes writes again; polling resumes', { event: 'store_recovered' });
      }
    })().finally(() => (this.#watching = false));
  }
}
