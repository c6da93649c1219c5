import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Handler and push replies: 1 ms to 30 s (CAMS gives a push reply 3 s). */
export const DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5, 10, 30,
];

/** Enqueue to processed: milliseconds when keeping up, minutes when a backlog drains. */
export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

const NS = 'cams_receipts_';

type QueueLabels = 'queue' | 'type';

/** Every series cams-receipts exports, as `/metrics` and docs/operations.md list them. */
export type MetricSet = ReturnType<typeof declareMetrics>;

/** Declares the daemon's metrics on `registry`; `collectInFlight` fills the in-flight gauge at each scrape. */
export function declareMetrics(registry: Registry, collectInFlight: () => void) {
  return {
    received: counter(
      registry,
      'received_total',
      'Receipts received: SMQ messages polled (source smq), or items in push bodies (source http).',
      ['queue', 'type', 'source'],
    ),
    enqueued: counter(
      registry,
      'enqueued_total',
      'Receipts stored as BullMQ jobs (new, or joined to an unfinished job).',
      ['queue', 'type'],
    ),
    duplicates: counter(
      registry,
      'duplicates_total',
      'Receipts whose job had already finished: duplicates collapsed.',
      ['queue', 'type'],
    ),
    processed: counter(
      registry,
      'processed_total',
      'Jobs completed: every handler has processed the receipt.',
      ['queue', 'type'],
    ),
    failed: counter(registry, 'failed_total', 'Handler attempts that failed (each may be retried).', [
      'handler',
      'type',
    ]),
    deadLettered: counter(registry, 'dead_lettered_total', 'Entries parked in the dead-letter store.', [
      'queue',
      'type',
      'reason',
    ]),
    deleted: counter(registry, 'deleted_total', 'SMQ messages deleted after processing.', ['queue', 'type']),
    deleteFailures: counter(
      registry,
      'delete_failures_total',
      'SMQ delete entries that failed, by error code.',
      ['queue', 'type', 'code'],
    ),
    leaseExtensions: counter(
      registry,
      'lease_extensions_total',
      'Visibility extensions of in-flight messages.',
      ['queue', 'type'],
    ),
    leaseExpirations: counter(
      registry,
      'lease_expirations_total',
      'In-flight messages whose lease was given up; they redeliver.',
      ['queue', 'type', 'reason'],
    ),
    backoffs: counter(registry, 'backoffs_total', 'Consumer loop backoffs, by error class.', [
      'queue',
      'type',
      'class',
    ]),
    polls: counter(registry, 'polls_total', 'Receive calls that returned (with or without messages).', [
      'queue',
      'type',
    ]),
    tokenRefreshes: counter(
      registry,
      'token_refreshes_total',
      'QueryTokenForMnsQueue calls that returned a token.',
      ['queue', 'type'],
    ),
    tokenFailures: counter(
      registry,
      'token_failures_total',
      'QueryTokenForMnsQueue calls that failed, by error class.',
      ['queue', 'type', 'class'],
    ),
    pushRequests: counter(registry, 'http_push_requests_total', 'HTTP push requests, by reply status.', [
      'type',
      'status',
    ]),

    lastPoll: gauge(
      registry,
      'last_poll_timestamp_seconds',
      'When the consumer loop last completed a poll (Unix time).',
      ['queue', 'type'],
    ),
    tokenExpiry: gauge(
      registry,
      'token_expiry_timestamp_seconds',
      'When the current SMQ token expires (Unix time).',
      ['queue', 'type'],
    ),
    jobs: gauge(registry, 'jobs', 'BullMQ jobs per type and state (sampled).', ['type', 'state']),
    deadLetters: gauge(registry, 'dead_letters', 'Entries in the dead-letter store (sampled).', []),
    smqMessages: gauge(
      registry,
      'smq_messages',
      'SMQ queue messages by state: active (visible), inactive (received), delayed (sampled).',
      ['queue', 'type', 'state'],
    ),
    buildInfo: gauge(registry, 'build_info', 'Always 1; the running version in its label.', ['version']),
    inFlight: new Gauge<QueueLabels>({
      name: `${NS}in_flight`,
      help: 'SMQ messages received and not yet deleted or given back.',
      labelNames: ['queue', 'type'],
      registers: [registry],
      collect: collectInFlight,
    }),

    handlerDuration: histogram(
      registry,
      'handler_duration_seconds',
      'Handler run time per attempt.',
      ['handler', 'type'],
      DURATION_BUCKETS_SECONDS,
    ),
    endToEnd: histogram(
      registry,
      'end_to_end_latency_seconds',
      'From SMQ EnqueueTime or HTTP arrival to the job completed.',
      ['type', 'source'],
      LATENCY_BUCKETS_SECONDS,
    ),
    pushDuration: histogram(
      registry,
      'http_push_duration_seconds',
      'HTTP push request time, arrival to reply.',
      ['type', 'status'],
      DURATION_BUCKETS_SECONDS,
    ),
  };
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return new Counter<L>({ name: NS + name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return new Gauge<L>({ name: NS + name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  return new Histogram<L>({ name: NS + name, help, labelNames, buckets, registers: [registry] });
}
