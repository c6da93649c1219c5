import { Registry, collectDefaultMetrics } from 'prom-client';
import type {
  ConsumerEvents,
  HandlerFinished,
  JobFinished,
  Observable,
  PushEvent,
  TokenEvents,
} from '../contracts/telemetry.js';
import { packageVersion } from '../util/version.js';
import { declareMetrics, type MetricSet } from './metric-declarations.js';

/** The `queue` label of receipts that arrived by HTTP push (SMQ receipts carry their queue name). */
export const HTTP_QUEUE_LABEL = 'http';

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC). @defaultValue true */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ role: 'poller' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** The `version` label of `cams_receipts_build_info`. @defaultValue the package's version */
  readonly version?: string;
}

/** BullMQ job counts of one type, as the sampler reads them. */
export interface JobStateCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
}

/** One SMQ queue's message counts, as GetQueueAttributes gives them. */
export interface SmqQueueCounts {
  readonly queue: string;
  readonly type: string;
  readonly activeMessages: number;
  readonly inactiveMessages: number;
  readonly delayMessages: number;
}

/** The consumer surface the metrics listen to. */
export interface ObservedConsumer extends Observable<ConsumerEvents> {
  readonly inFlight: number;
}

type QueueLabels = 'queue' | 'type';
type ConsumerListeners = {
  readonly [K in keyof ConsumerEvents]?: (...args: ConsumerEvents[K]) => void;
};

/**
 * The daemon's Prometheus metrics, on a registry of their own (never the global one, so two daemons
 * in one test process do not collide). Call sites pass plain values; `observe*` binds an emitter.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly #m: MetricSet;
  readonly #inFlightReaders = new Map<string, { labels: Record<QueueLabels, string>; read: () => number }>();

  constructor(options: MetricsOptions = {}) {
    this.#m = declareMetrics(this.registry, () => this.#collectInFlight());
    if (options.defaultLabels) this.registry.setDefaultLabels({ ...options.defaultLabels });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#m.buildInfo.set({ version: options.version ?? packageVersion() }, 1);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // --- SMQ consumer loop ---------------------------------------------------------------------

  received(queue: string, type: string, count = 1, source: 'smq' | 'http' = 'smq'): void {
    this.#m.received.inc({ queue, type, source }, count);
  }

  enqueued(queue: string, type: string, count = 1): void {
    this.#m.enqueued.inc({ queue, type }, count);
  }

  duplicates(queue: string, type: string, count = 1): void {
    this.#m.duplicates.inc({ queue, type }, count);
  }

  deleted(queue: string, type: string, count = 1): void {
    this.#m.deleted.inc({ queue, type }, count);
  }

  deleteFailed(queue: string, type: string, code: string, count = 1): void {
    this.#m.deleteFailures.inc({ queue, type, code: code || 'unknown' }, count);
  }

  leaseExtended(queue: string, type: string): void {
    this.#m.leaseExtensions.inc({ queue, type });
  }

  leaseExpired(queue: string, type: string, reason: string): void {
    this.#m.leaseExpirations.inc({ queue, type, reason });
  }

  backoff(queue: string, type: string, errorClass: string): void {
    this.#m.backoffs.inc({ queue, type, class: errorClass });
  }

  pollCompleted(queue: string, type: string, atMs: number): void {
    this.#m.polls.inc({ queue, type });
    this.#m.lastPoll.set({ queue, type }, atMs / 1000);
  }

  deadLettered(queue: string, type: string, reason: string, count = 1): void {
    this.#m.deadLettered.inc({ queue, type, reason }, count);
  }

  tokenRefreshed(queue: string, type: string, expireAtMs?: number): void {
    this.#m.tokenRefreshes.inc({ queue, type });
    if (expireAtMs !== undefined) this.#m.tokenExpiry.set({ queue, type }, expireAtMs / 1000);
  }

  tokenFailed(queue: string, type: string, errorClass: string): void {
    this.#m.tokenFailures.inc({ queue, type, class: errorClass });
  }

  /**
   * Reports `read()` as the in-flight gauge of one consumer at every scrape. Returns a function that
   * stops reporting and removes the series (a consumer removed by a reload).
   */
  trackInFlight(queue: string, type: string, read: () => number): () => void {
    const key = `${queue}\u0000${type}`;
    this.#inFlightReaders.set(key, { labels: { queue, type }, read });
    return () => {
      this.#inFlightReaders.delete(key);
      this.#m.inFlight.remove({ queue, type });
    };
  }

  /**
   * Counts every event of one consumer loop, and reports its in-flight messages. Returns a function that
   * detaches the listeners (call it when a reload removes the consumer).
   */
  observeConsumer(consumer: ObservedConsumer, labels: { queue: string; type: string }): () => void {
    const { queue, type } = labels;
    // Typed against the consumer's event map, so a renamed event fails to compile instead of going quiet.
    const listeners: ConsumerListeners = {
      received: (e: { count: number }) => this.received(queue, type, e.count),
      enqueued: (e: { count: number }) => this.enqueued(queue, type, e.count),
      duplicate: (e: { count: number }) => this.duplicates(queue, type, e.count),
      deleted: (e: { count: number }) => this.deleted(queue, type, e.count),
      delete_failed: (e: { code: string; count: number }) => this.deleteFailed(queue, type, e.code, e.count),
      lease_extended: () => this.leaseExtended(queue, type),
      lease_expired: (e: { reason: string }) => this.leaseExpired(queue, type, e.reason),
      backoff: (e: { errorClass: string }) => this.backoff(queue, type, e.errorClass),
      poll_completed: (e: { atMs: number }) => this.pollCompleted(queue, type, e.atMs),
      dead_lettered: (e: { reason: string }) => this.deadLettered(queue, type, e.reason),
    };
    const emitter = consumer as unknown as NodeJS.EventEmitter;
    for (const [event, listener] of Object.entries(listeners)) emitter.on(event, listener as never);
    const untrack = this.trackInFlight(queue, type, () => consumer.inFlight);
    return () => {
      for (const [event, listener] of Object.entries(listeners)) emitter.off(event, listener as never);
      untrack();
    };
  }

  /** Counts token refreshes and failures of the shared token provider, per queue. */
  observeTokens(tokens: Observable<TokenEvents>): () => void {
    const onRefreshed = (e: { messageType: string; queueName: string; expireAtMs: number }) =>
      this.tokenRefreshed(e.queueName, e.messageType, e.expireAtMs);
    const onFailed = (e: { messageType: string; queueName: string; errorClass: string }) =>
      this.tokenFailed(e.queueName, e.messageType, e.errorClass);
    const onForgotten = (e: { messageType: string; queueName: string }) =>
      this.#m.tokenExpiry.remove({ queue: e.queueName, type: e.messageType });
    tokens.on('token_refreshed', onRefreshed);
    tokens.on('token_failed', onFailed);
    tokens.on('token_forgotten', onForgotten);
    return () => {
      tokens.off('token_refreshed', onRefreshed);
      tokens.off('token_failed', onFailed);
      tokens.off('token_forgotten', onForgotten);
    };
  }

  // --- Sampled depths (BacklogSampler) ----------------------------------------------------------

  jobCounts(type: string, counts: JobStateCounts): void {
    for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
      this.#m.jobs.set({ type, state }, counts[state]);
    }
  }

  deadLetterCount(count: number): void {
    this.#m.deadLetters.set(count);
  }

  /** Replaces every SMQ queue series, so a queue removed by a reload disappears. */
  smqQueues(queues: readonly SmqQueueCounts[]): void {
    this.#m.smqMessages.reset();
    for (const q of queues) {
      const labels = { queue: q.queue, type: q.type };
      this.#m.smqMessages.set({ ...labels, state: 'active' }, q.activeMessages);
      this.#m.smqMessages.set({ ...labels, state: 'inactive' }, q.inactiveMessages);
      this.#m.smqMessages.set({ ...labels, state: 'delayed' }, q.delayMessages);
    }
  }

  /** Jobs completed by this process since it started, over every type. */
  async processedTotal(): Promise<number> {
    const { values } = await this.#m.processed.get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  // --- BullMQ workers (pipeline hooks) -------------------------------------------------------

  /** The pipeline's `onHandlerFinished` hook: handler duration, and failed attempts. */
  handlerFinished(event: HandlerFinished): void {
    const labels = { handler: event.handler, type: event.messageType };
    this.#m.handlerDuration.observe(labels, event.durationMs / 1000);
    if (!event.ok) this.#m.failed.inc(labels);
  }

  /** The pipeline's `onJobFinished` hook: processed jobs, end-to-end latency, handler dead letters. */
  jobFinished(event: JobFinished, nowMs = Date.now()): void {
    const queue = event.queueName ?? (event.source === 'http' ? HTTP_QUEUE_LABEL : 'unknown');
    if (event.outcome === 'completed') {
      this.#m.processed.inc({ queue, type: event.messageType });
      if (event.originTimeMs > 0) {
        const seconds = Math.max(0, nowMs - event.originTimeMs) / 1000;
        this.#m.endToEnd.observe({ type: event.messageType, source: event.source }, seconds);
      }
    } else if (event.outcome === 'dead_lettered') {
      this.deadLettered(queue, event.messageType, event.reason ?? 'failed');
    }
  }

  // --- HTTP push -------------------------------------------------------------------------------

  /** The HTTP server's `onPush` hook: requests by status, latency, and the receipts they carried. */
  pushRequest(event: PushEvent): void {
    const type = event.messageType;
    const status = String(event.status);
    this.#m.pushRequests.inc({ type, status });
    this.#m.pushDuration.observe({ type, status }, event.durationMs / 1000);
    const items = event.receipts + event.invalid;
    if (items > 0) this.received(HTTP_QUEUE_LABEL, type, items, 'http');
    if (event.status !== 200) return;
    if (event.receipts > 0) this.enqueued(HTTP_QUEUE_LABEL, type, event.receipts);
    if (event.invalid > 0) this.deadLettered(HTTP_QUEUE_LABEL, type, 'invalid', event.invalid);
  }

  #collectInFlight(): void {
    for (const { labels, read } of this.#inFlightReaders.values()) {
      let value = 0;
      try {
        value = read();
      } catch {
        // A reader of a component mid-teardown reports 0 rather than break the scrape.
      }
      this.#m.inFlight.set(labels, value);
    }
  }
}
