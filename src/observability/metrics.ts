import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type {
  ConsumerEvents,
  HandlerFinished,
  JobFinished,
  Observable,
  PushEvent,
  TokenEvents,
} from '../contracts/telemetry.js';

/** The `queue` label of receipts that arrived by HTTP push (SMQ receipts carry their queue name). */
export const HTTP_QUEUE_LABEL = 'http';

/** Handler and push replies: 1 ms to 30 s (CAMS gives a push reply 3 s). */
export const DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5, 10, 30,
];

/** Enqueue to processed: milliseconds when keeping up, minutes when a backlog drains. */
export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

const NS = 'cams_receipts_';

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC). @defaultValue true */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ role: 'poller' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
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

  readonly #received = this.#counter(
    'received_total',
    'Receipts received: SMQ messages polled, or items in a push body.',
    ['queue', 'type'],
  );
  readonly #enqueued = this.#counter(
    'enqueued_total',
    'Receipts stored as BullMQ jobs (new, or joined to an unfinished job).',
    ['queue', 'type'],
  );
  readonly #duplicates = this.#counter(
    'duplicates_total',
    'Receipts whose job had already finished: duplicates collapsed.',
    ['queue', 'type'],
  );
  readonly #processed = this.#counter(
    'processed_total',
    'Jobs completed: every handler has processed the receipt.',
    ['queue', 'type'],
  );
  readonly #failed = this.#counter('failed_total', 'Handler attempts that failed (each may be retried).', [
    'handler',
    'type',
  ]);
  readonly #deadLettered = this.#counter('dead_lettered_total', 'Entries parked in the dead-letter store.', [
    'queue',
    'type',
    'reason',
  ]);
  readonly #deleted = this.#counter('deleted_total', 'SMQ messages deleted after processing.', [
    'queue',
    'type',
  ]);
  readonly #deleteFailures = this.#counter(
    'delete_failures_total',
    'SMQ delete entries that failed, by error code.',
    ['queue', 'type', 'code'],
  );
  readonly #leaseExtensions = this.#counter(
    'lease_extensions_total',
    'Visibility extensions of in-flight messages.',
    ['queue', 'type'],
  );
  readonly #leaseExpirations = this.#counter(
    'lease_expirations_total',
    'In-flight messages whose lease was given up; they redeliver.',
    ['queue', 'type', 'reason'],
  );
  readonly #backoffs = this.#counter('backoffs_total', 'Consumer loop backoffs, by error class.', [
    'queue',
    'type',
    'class',
  ]);
  readonly #polls = this.#counter('polls_total', 'Receive calls that returned (with or without messages).', [
    'queue',
    'type',
  ]);
  readonly #tokenRefreshes = this.#counter(
    'token_refreshes_total',
    'QueryTokenForMnsQueue calls that returned a token.',
    ['queue', 'type'],
  );
  readonly #tokenFailures = this.#counter(
    'token_failures_total',
    'QueryTokenForMnsQueue calls that failed, by error class.',
    ['queue', 'type', 'class'],
  );
  readonly #pushRequests = this.#counter('http_push_requests_total', 'HTTP push requests, by reply status.', [
    'type',
    'status',
  ]);

  readonly #lastPoll = this.#gauge(
    'last_poll_timestamp_seconds',
    'When the consumer loop last completed a poll (Unix time).',
    ['queue', 'type'],
  );
  readonly #tokenExpiry = this.#gauge(
    'token_expiry_timestamp_seconds',
    'When the current SMQ token expires (Unix time).',
    ['queue', 'type'],
  );
  readonly #inFlightReaders = new Map<string, { labels: Record<QueueLabels, string>; read: () => number }>();
  readonly #inFlight = new Gauge<QueueLabels>({
    name: `${NS}in_flight`,
    help: 'SMQ messages received and not yet deleted or given back.',
    labelNames: ['queue', 'type'],
    registers: [this.registry],
    collect: () => this.#collectInFlight(),
  });

  readonly #handlerDuration = this.#histogram(
    'handler_duration_seconds',
    'Handler run time per attempt.',
    ['handler', 'type'],
    DURATION_BUCKETS_SECONDS,
  );
  readonly #endToEnd = this.#histogram(
    'end_to_end_latency_seconds',
    'From SMQ EnqueueTime or HTTP arrival to the job completed.',
    ['type', 'source'],
    LATENCY_BUCKETS_SECONDS,
  );
  readonly #pushDuration = this.#histogram(
    'http_push_duration_seconds',
    'HTTP push request time, arrival to reply.',
    ['type', 'status'],
    DURATION_BUCKETS_SECONDS,
  );

  constructor(options: MetricsOptions = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels({ ...options.defaultLabels });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // --- SMQ consumer loop ---------------------------------------------------------------------

  received(queue: string, type: string, count = 1): void {
    this.#received.inc({ queue, type }, count);
  }

  enqueued(queue: string, type: string, count = 1): void {
    this.#enqueued.inc({ queue, type }, count);
  }

  duplicates(queue: string, type: string, count = 1): void {
    this.#duplicates.inc({ queue, type }, count);
  }

  deleted(queue: string, type: string, count = 1): void {
    this.#deleted.inc({ queue, type }, count);
  }

  deleteFailed(queue: string, type: string, code: string, count = 1): void {
    this.#deleteFailures.inc({ queue, type, code: code || 'unknown' }, count);
  }

  leaseExtended(queue: string, type: string): void {
    this.#leaseExtensions.inc({ queue, type });
  }

  leaseExpired(queue: string, type: string, reason: string): void {
    this.#leaseExpirations.inc({ queue, type, reason });
  }

  backoff(queue: string, type: string, errorClass: string): void {
    this.#backoffs.inc({ queue, type, class: errorClass });
  }

  pollCompleted(queue: string, type: string, atMs: number): void {
    this.#polls.inc({ queue, type });
    this.#lastPoll.set({ queue, type }, atMs / 1000);
  }

  deadLettered(queue: string, type: string, reason: string, count = 1): void {
    this.#deadLettered.inc({ queue, type, reason }, count);
  }

  tokenRefreshed(queue: string, type: string, expireAtMs?: number): void {
    this.#tokenRefreshes.inc({ queue, type });
    if (expireAtMs !== undefined) this.#tokenExpiry.set({ queue, type }, expireAtMs / 1000);
  }

  tokenFailed(queue: string, type: string, errorClass: string): void {
    this.#tokenFailures.inc({ queue, type, class: errorClass });
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
      this.#inFlight.remove({ queue, type });
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
      this.#tokenExpiry.remove({ queue: e.queueName, type: e.messageType });
    tokens.on('token_refreshed', onRefreshed);
    tokens.on('token_failed', onFailed);
    tokens.on('token_forgotten', onForgotten);
    return () => {
      tokens.off('token_refreshed', onRefreshed);
      tokens.off('token_failed', onFailed);
      tokens.off('token_forgotten', onForgotten);
    };
  }

  // --- BullMQ workers (pipeline hooks) -------------------------------------------------------

  /** The pipeline's `onHandlerFinished` hook: handler duration, and failed attempts. */
  handlerFinished(event: HandlerFinished): void {
    const labels = { handler: event.handler, type: event.messageType };
    this.#handlerDuration.observe(labels, event.durationMs / 1000);
    if (!event.ok) this.#failed.inc(labels);
  }

  /** The pipeline's `onJobFinished` hook: processed jobs, end-to-end latency, handler dead letters. */
  jobFinished(event: JobFinished, nowMs = Date.now()): void {
    const queue = event.queueName ?? (event.source === 'http' ? HTTP_QUEUE_LABEL : 'unknown');
    if (event.outcome === 'completed') {
      this.#processed.inc({ queue, type: event.messageType });
      if (event.originTimeMs > 0) {
        const seconds = Math.max(0, nowMs - event.originTimeMs) / 1000;
        this.#endToEnd.observe({ type: event.messageType, source: event.source }, seconds);
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
    this.#pushRequests.inc({ type, status });
    this.#pushDuration.observe({ type, status }, event.durationMs / 1000);
    const items = event.receipts + event.invalid;
    if (items > 0) this.received(HTTP_QUEUE_LABEL, type, items);
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
      this.#inFlight.set(labels, value);
    }
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter<L>({ name: NS + name, help, labelNames, registers: [this.registry] });
  }

  #gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge<L>({ name: NS + name, help, labelNames, registers: [this.registry] });
  }

  #histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram<L>({ name: NS + name, help, labelNames, buckets, registers: [this.registry] });
  }
}
