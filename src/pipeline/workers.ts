import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { RedisClient } from '../redis/connection.js';
import type { PipelineConfig } from '../config/types.js';
import type { MessageType } from '../receipts/types.js';
import type { ReceiptJobData, ReceiptJobResult } from './job.js';
import type { KeySpace, PartitionKeys } from './keys.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { WorkerState } from '../observability/health.js';
import { PARKED_PREFIX, parkedReason, type FailedJobWatch } from './failed-jobs.js';
import { DeadLetteredError, HandlerBusyError } from './job.js';
import type { ReceiptProcessor } from './processor.js';
import { WatchedWorker } from './watched-worker.js';

export interface WorkerPoolOptions {
  readonly types: readonly MessageType[];
  readonly processor: ReceiptProcessor;
  readonly keys: KeySpace;
  readonly blockingConnection: () => RedisClient;
  readonly config: PipelineConfig;
  /** Aborted at shutdown; handlers see it through ctx.signal. */
  readonly shutdown: AbortSignal;
  /** Parks the receipts of jobs BullMQ failed on its own. */
  readonly failedJobs: FailedJobWatch;
  /** Where worker errors go, rate-limited: a Redis outage makes every worker fail at once. */
  readonly errors: ErrorReporter;
}

/** BullMQ fails a job that stalled more than this; the processor's own limit is far lower. */
const BULLMQ_NEVER_FAILS_STALLED = 1_000_000;
/** A suspect that finds another running waits this long, plus up to as much again of jitter. */
const SUSPECT_RETRY_MS = 500;

/**
 * Most job slots one BullMQ worker gets. A worker fetches jobs one Redis round trip at a time and starts
 * them once its fetch run ends, so one worker with many slots is slow to start a burst (and slower in a
 * drain); several smaller workers fetch in parallel.
 */
export const MAX_SLOTS_PER_WORKER = 64;

/**
 * How `concurrency` slots per type are spread: the slots of each worker, as few workers as hold them,
 * shares differing by at most one and adding up to exactly `concurrency`.
 */
export function workerShares(concurrency: number): number[] {
  const workers = Math.ceil(concurrency / MAX_SLOTS_PER_WORKER);
  const base = Math.floor(concurrency / workers);
  const larger = concurrency - base * workers;
  return Array.from({ length: workers }, (_, i) => (i < larger ? base + 1 : base));
}

/**
 * How `concurrency` slots per type are spread over `partitions`: shares differing by at most one and adding
 * up to `concurrency`, but at least one a partition, or its queue would never be worked in this process.
 */
export function partitionShares(concurrency: number, partitions: number): number[] {
  const base = Math.floor(concurrency / partitions);
  const larger = concurrency - base * partitions;
  return Array.from({ length: partitions }, (_, i) => Math.max(1, i < larger ? base + 1 : base));
}

/**
 * BullMQ workers running the receipt processor: for each message type and partition, enough to hold its
 * share of the type's slots. While partitions change, the previous layout's queues get workers of their
 * own (its shares as it ran), idle once drained.
 */
export class WorkerPool {
  private readonly workers: WatchedWorker[];
  /** A suspect (a job that stalled before) is running in this process. */
  private suspectRunning = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    const { partitions, previous } = opts.keys;
    this.workers = [partitions, previous].flatMap(layout => {
      const shares = partitionShares(opts.config.concurrency, layout.length);
      return opts.types.flatMap(type =>
        layout.flatMap((part, p) =>
          workerShares(shares[p] ?? 1).map(slots => this.createWorker(type, part, slots)),
        ),
      );
    });
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map(w => w.waitUntilReady()));
  }

  /** Stops taking jobs, and waits for the running ones (bounded by the caller). */
  async close(force = false): Promise<void> {
    await Promise.allSettled(this.workers.map(w => w.close(force)));
  }

  /** Each worker's last word from Redis, for readiness. */
  health(): WorkerState[] {
    return this.workers.map(w => w.state());
  }

  private createWorker(type: MessageType, part: PartitionKeys, slots: number): WatchedWorker {
    const { config } = this.opts;
    const worker: WatchedWorker = new WatchedWorker(
      type,
      slots,
      (job, token) => worker.track(() => this.run(job, token)),
      {
        connection: this.opts.blockingConnection(),
        prefix: part.prefix,
        // Renewed at half this interval while the job runs; after a crash the job is retried once it lapses.
        lockDuration: config.lockDurationMs,
        stalledInterval: config.stalledIntervalMs,
        // The processor enforces pipeline.maxStalledCount itself, so that a receipt that keeps crashing
        // workers is dead-lettered: BullMQ would fail it without calling the processor, and park nothing.
        maxStalledCount: BULLMQ_NEVER_FAILS_STALLED,
      },
    );
    worker.on('error', err => this.opts.errors.report('worker_error', err, { messageType: type }));
    worker.on('failed', (job, err) => {
      if (job?.id && !err.message.startsWith(PARKED_PREFIX)) this.opts.failedJobs.watch(type, job.id, part);
    });
    return worker;
  }

  /**
   * A job whose worker died under it may be what kills workers. Such suspects run one at a time in this
   * process (the others wait in the delayed set, without spending an attempt): otherwise the receipts that
   * happen to run beside a crashing one stall with it every time, and reach pipeline.maxStalledCount too.
   */
  private async run(job: Job<ReceiptJobData, ReceiptJobResult>, token?: string): Promise<ReceiptJobResult> {
    const suspect = job.stalledCounter > 0 && job.stalledCounter <= this.opts.config.maxStalledCount;
    if (suspect && this.suspectRunning) {
      await job.moveToDelayed(
        Date.now() + SUSPECT_RETRY_MS + Math.round(Math.random() * SUSPECT_RETRY_MS),
        token,
      );
      throw new DelayedError();
    }
    if (suspect) this.suspectRunning = true;
    try {
      return await this.attempt(job, token);
    } finally {
      if (suspect) this.suspectRunning = false;
    }
  }

  private async attempt(
    job: Job<ReceiptJobData, ReceiptJobResult>,
    token?: string,
  ): Promise<ReceiptJobResult> {
    const attempts = job.opts.attempts ?? 1;
    const number = job.attemptsMade + 1;
    try {
      // The processor writes the job's finished record (which tells pollers) with its handler records.
      return await this.opts.processor.process(job.data, {
        number,
        isLast: number >= attempts,
        stalls: job.stalledCounter,
        redelivered: job.attemptsStarted > 1 || job.data.redelivered === true,
        signal: this.opts.shutdown,
        jobId: job.id,
      });
    } catch (err) {
      if (err instanceof DeadLetteredError)
        throw new UnrecoverableError(parkedReason(err.entryId, err.message));
      if (err instanceof HandlerBusyError) {
        // Not a failure: wait for the other lease (perhaps a crashed worker's) to lapse.
        await job.moveToDelayed(Date.now() + err.retryInMs, token);
        throw new DelayedError();
      }
      throw err;
    }
  }
}
