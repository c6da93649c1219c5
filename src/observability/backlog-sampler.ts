import type { Logger } from '../contracts/logger.js';
import { errorMessage } from '../util/error-message.js';
import { DrainProgress } from './drain-progress.js';
import type { JobStateCounts, Metrics, SmqQueueCounts } from './metrics.js';

/** Where the sampler reads the depths from (the daemon wires BullMQ, the dead-letter store and SMQ). */
export interface BacklogSources {
  /** BullMQ job counts per message type this process serves. */
  jobCounts(): Promise<ReadonlyMap<string, JobStateCounts>>;
  deadLetters(): Promise<number>;
  /** The configured SMQ queues this process polls; a queue that cannot be read is left out. */
  smqQueues(): Promise<readonly SmqQueueCounts[]>;
}

export interface BacklogSamplerOptions {
  readonly sources: BacklogSources;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** BullMQ and dead-letter depths, and progress lines. */
  readonly intervalMs: number;
  /** GetQueueAttributes calls are billed requests: read them less often. */
  readonly smqIntervalMs: number;
  readonly progress?: DrainProgress;
  readonly now?: () => number;
}

/**
 * Samples the depths on a timer, not on each scrape (a scrape stays cheap, and Redis and SMQ see a fixed
 * load however many scrapers there are), sets the gauges, and logs progress while a backlog drains.
 */
export class BacklogSampler {
  readonly #o: BacklogSamplerOptions;
  readonly #progress: DrainProgress;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #smqAtMs = Number.NEGATIVE_INFINITY;
  #smqLeft = 0;
  #failing = false;

  constructor(options: BacklogSamplerOptions) {
    this.#o = options;
    this.#progress = options.progress ?? new DrainProgress();
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One sample; a sample still running is joined rather than overlapped. */
  sample(): Promise<void> {
    this.#running ??= this.#sampleOnce().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sampleOnce(): Promise<void> {
    const { sources, metrics } = this.#o;
    try {
      const [counts, deadLetters] = await Promise.all([sources.jobCounts(), sources.deadLetters()]);
      for (const [type, c] of counts) metrics.jobCounts(type, c);
      metrics.deadLetterCount(deadLetters);
      await this.#sampleSmq();
      let left = this.#smqLeft;
      for (const c of counts.values()) left += c.waiting + c.delayed;
      this.#report(left, await metrics.processedTotal());
      this.#failing = false;
    } catch (err) {
      // Redis away: readiness and the outage logs say so; one line here when sampling starts failing.
      if (!this.#failing)
        this.#o.logger.warn('depth sampling failed', { event: 'sample_failed', error: errorMessage(err) });
      this.#failing = true;
    }
  }

  async #sampleSmq(): Promise<void> {
    const now = this.#now();
    if (now - this.#smqAtMs < this.#o.smqIntervalMs) return;
    this.#smqAtMs = now;
    const queues = await this.#o.sources.smqQueues();
    this.#o.metrics.smqQueues(queues);
    this.#smqLeft = queues.reduce((sum, q) => sum + q.activeMessages + q.delayMessages, 0);
  }

  #report(left: number, processed: number): void {
    const report = this.#progress.next(left, processed, this.#now());
    if (report?.kind === 'progress') {
      const { kind: _, ...fields } = report;
      this.#o.logger.info('backlog draining', { event: 'backlog_progress', ...fields });
    } else if (report?.kind === 'drained') {
      this.#o.logger.info('backlog drained', { event: 'backlog_drained', left: report.left });
    }
  }
}
