import type { Logger } from '../contracts/logger.js';
import type { PipelineConfig, RedisConfig } from '../config/types.js';
import type { AnyReceipt, MessageType } from '../receipts/types.js';
import { BullMqCompletions } from './completions.js';
import { ErrorReporter } from '../observability/error-reporter.js';
import { DeadLetterStore } from './dead-letter-store.js';
import { FailedJobs } from './failed-jobs.js';
import { IdempotencyStore } from './idempotency.js';
import { JobStates } from './job-states.js';
import { KeySpace } from './keys.js';
import { RecentOutcomes } from './recent-outcomes.js';
import { ReceiptProcessor } from './processor.js';
import { SerialLeases, wakeJob } from './serialize.js';
import { StatusStore } from './status-store.js';
import type { HandlerFinished, JobFinished } from '../contracts/telemetry.js';
import type { HandlerSource } from '../contracts/handler.js';
import { ReceiptQueues } from './queues.js';
import {
  blockingConnection,
  closeConnection,
  producerConnection,
  type RedisClient,
} from '../redis/connection.js';
import type { Topology } from '../redis/topology.js';
import { delay } from '../util/async.js';
import { BullMqReceiptSink } from './sink.js';
import { WorkerPool } from './workers.js';
import { warnUnlessNoEviction } from '../redis/memory-policy.js';

export interface PipelineOptions {
  /** Where Redis is (any of the three forms) and the key prefix. */
  readonly redis: RedisConfig;
  /** What the caller found there before building the pipeline (see inspectTopology), if it looked. */
  readonly topology?: Topology;
  readonly config: PipelineConfig;
  readonly logger: Logger;
  /** Aborted at shutdown; running handlers see it. */
  readonly shutdown: AbortSignal;
  /** Run BullMQ workers here (role `worker` or `all`) with these handlers. */
  readonly workers?: {
    readonly handlers: HandlerSource;
    readonly types: readonly MessageType[];
    readonly parseInbound: (receipt: AnyReceipt) => unknown;
    readonly onHandlerFinished?: (event: HandlerFinished) => void;
    readonly onJobFinished?: (event: JobFinished) => void;
  };
  /** Listen for job completions here (a poller waits on them before deleting from SMQ). */
  readonly completions?: boolean;
  /** Give up on Redis after this long when storing receipts. */
  readonly storeTimeoutMs?: number;
  /** How often unfinished waits are re-checked against Redis. */
  readonly completionSweepMs?: number;
}

/** The BullMQ side of cams-receipts, wired once for a process: queues, sink, workers, completions, dead letters. */
export class Pipeline {
  private readonly connections: RedisClient[] = [];
  readonly keys: KeySpace;
  readonly redis: RedisClient;
  readonly topology: Topology | undefined;
  readonly queues: ReceiptQueues;
  readonly jobStates: JobStates;
  /** Outcomes the completion reader heard lately, for the sink and the waiters. */
  private readonly recent = new RecentOutcomes();
  readonly sink: BullMqReceiptSink;
  readonly deadLetters: DeadLetterStore;
  readonly idempotency: IdempotencyStore;
  readonly failedJobs: FailedJobs;
  /** Rate-limited logging of errors that repeat (Redis away). */
  readonly errors: ErrorReporter;
  readonly completions: BullMqCompletions | undefined;
  readonly workers: WorkerPool | undefined;

  constructor(private readonly opts: PipelineOptions) {
    const { prefix, partitions, previousPartitions } = opts.redis;
    this.keys = new KeySpace(prefix, partitions, previousPartitions);
    this.topology = opts.topology;
    this.redis = this.track(producerConnection(opts.redis));
    this.redis.on('error', () => undefined);
    this.queues = new ReceiptQueues(this.redis, this.keys, opts.config);
    this.jobStates = new JobStates(this.redis, this.keys);
    this.sink = new BullMqReceiptSink(this.queues, this.redis, this.keys, this.jobStates, {
      storeTimeoutMs: opts.storeTimeoutMs ?? 2000,
      recent: this.recent,
    });
    this.deadLetters = new DeadLetterStore(this.redis, this.keys);
    this.errors = new ErrorReporter({ logger: opts.logger });
    const finished = { streamMaxLen: opts.config.eventsMaxLen };
    this.idempotency = new IdempotencyStore(
      this.redis,
      this.keys,
      opts.config.idempotencyTtlSeconds,
      finished,
    );
    this.failedJobs = this.createFailedJobs(finished);
    const blocking = () => this.blockingConnection();
    this.completions = opts.completions ? this.createCompletions(blocking) : undefined;
    this.workers = opts.workers ? this.createWorkers(opts.workers, blocking) : undefined;
  }

  private blockingConnection(): RedisClient {
    const conn = this.track(blockingConnection(this.opts.redis));
    conn.on('error', () => undefined);
    return conn;
  }

  private createFailedJobs(finished: { streamMaxLen: number }): FailedJobs {
    return new FailedJobs({
      redis: this.redis,
      keys: this.keys,
      deadLetters: this.deadLetters,
      logger: this.opts.logger,
      errors: this.errors,
      streamMaxLen: finished.streamMaxLen,
    });
  }

  private createCompletions(blocking: () => RedisClient): BullMqCompletions {
    return new BullMqCompletions({
      keys: this.keys,
      blockingConnection: blocking,
      readerPerPartition: this.opts.redis.cluster.nodes.length > 0,
      errors: this.errors,
      failedJobs: this.failedJobs,
      states: this.jobStates,
      recent: this.recent,
      sweepIntervalMs: this.opts.completionSweepMs,
    });
  }

  /** Throws when Redis does not take a small write (unreachable, or full: maxmemory reached). */
  async checkWritable(): Promise<void> {
    await this.redis.set(this.keys.probe, '1', 'PX', 10_000);
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all([
      this.queues.waitUntilReady(),
      this.completions?.waitUntilReady(),
      this.workers?.waitUntilReady(),
    ]);
    // Once connected: the producer connection does not queue commands before that.
    await warnUnlessNoEviction(this.redis, this.opts.logger);
  }

  /**
   * Stops the workers (letting running jobs finish), then closes every connection. Bounded: when Redis
   * is unreachable BullMQ's own close would wait for it forever, so after `timeoutMs` it is forced.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const graceful = (async () => {
      await this.workers?.close();
      await this.completions?.close();
      await this.queues.close();
    })();
    const finished = await Promise.race([graceful.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!finished) {
      this.opts.logger.warn('Redis did not answer; closing connections without waiting', {
        event: 'pipeline_forced_close',
      });
      void this.workers?.close(true).catch(() => undefined);
      for (const c of this.connections) c.disconnect();
    }
    this.failedJobs.close();
    this.errors.close();
    await Promise.allSettled(this.connections.map(c => closeConnection(c)));
  }

  private createWorkers(w: NonNullable<PipelineOptions['workers']>, blocking: () => RedisClient): WorkerPool {
    const processor = new ReceiptProcessor({
      handlers: w.handlers,
      idempotency: this.idempotency,
      deadLetters: this.deadLetters,
      logger: this.opts.logger,
      handlerTimeoutMs: this.opts.config.handlerTimeoutMs,
      maxStalledCount: this.opts.config.maxStalledCount,
      parseInbound: w.parseInbound,
      onHandlerFinished: w.onHandlerFinished,
      onJobFinished: w.onJobFinished,
      status: new StatusStore(this.redis, this.keys.prefix, this.opts.config.idempotencyTtlSeconds),
      serial: new SerialLeases(this.redis, this.keys.prefix, (type, id) => wakeJob(this.queues, type, id)),
    });
    return new WorkerPool({
      types: w.types,
      processor,
      keys: this.keys,
      blockingConnection: blocking,
      config: this.opts.config,
      shutdown: this.opts.shutdown,
      failedJobs: this.failedJobs,
      errors: this.errors,
    });
  }

  private track(conn: RedisClient): RedisClient {
    this.connections.push(conn);
    return conn;
  }
}
