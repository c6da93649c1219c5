// Ceiling (b): BullMQ alone on the same Redis. One process adds the receipts as jobs (addBulk, the
// daemon's job ids, data and job options) and runs one worker per message type with a no-op
// processor, until every job completed. Starts on "go", reports {completed, ms}.
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { ReceiptFactory } from '../../src/emulator/index.js';
import { jobIdFor } from '../../src/receipts/dedupe.js';
import type { MessageType } from '../../src/receipts/types.js';
import { childSide } from './child.js';
import { IdempotencyStore } from '../../src/pipeline/idempotency.js';
import { KeySpace } from '../../src/pipeline/keys.js';
import { BENCH_HANDLER, TYPE_MIX, dedupeKeyOf, uniqueReceipt } from './load.js';

export interface CeilingBullmqConfig {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly jobs: number;
  readonly bulkSize: number;
  /** addBulk calls in flight at once. */
  readonly producers: number;
  readonly concurrency: number;
  /** Offer the jobs at this rate (addBulk every 20 ms) instead of as fast as Redis takes them. */
  readonly ratePerSecond?: number;
  /** Also claim and commit each job's idempotency record and completion entry, as the daemon's workers do. */
  readonly withRecords?: boolean;
}

/** The daemon's default job options (pipeline.* defaults). */
const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};
const TYPES = Object.keys(TYPE_MIX) as MessageType[];

const { config, send } = childSide<CeilingBullmqConfig>();

function buildJobs(): { type: MessageType; name: string; data: unknown; opts: JobsOptions }[] {
  const factory = new ReceiptFactory();
  const out = [];
  for (let i = 0; i < config.jobs; i += 1) {
    // Interleaved by the mix, as receipts arrive.
    const roll = (i * 0.6180339887) % 1;
    const type = roll < TYPE_MIX.ChatAppStatus ? TYPES[0] : roll < 0.95 ? TYPES[1] : TYPES[2];
    const messageType = type as MessageType;
    const receipt = uniqueReceipt(factory, messageType);
    const dedupeKey = dedupeKeyOf(messageType, receipt);
    out.push({
      type: messageType,
      name: messageType,
      data: {
        messageType,
        receipt,
        source: 'smq',
        queueName: messageType,
        dedupeKey,
        originTimeMs: Date.now(),
      },
      opts: { jobId: jobIdFor(messageType, dedupeKey) },
    });
  }
  return out;
}

const jobs = buildJobs();
const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const queues = new Map(
  TYPES.map(t => [
    t,
    new Queue(t, {
      connection,
      prefix: config.prefix,
      defaultJobOptions: JOB_OPTIONS,
      streams: { events: { maxLen: 100_000 } },
    }),
  ]),
);
let completed = 0;
let resolveAll: () => void = () => undefined;
const allDone = new Promise<void>(resolve => (resolveAll = resolve));
const store = config.withRecords
  ? new IdempotencyStore(
      new Redis(config.redisUrl, { maxRetriesPerRequest: null }),
      new KeySpace(config.prefix),
      604_800,
    )
  : undefined;

/** What the daemon's processor asks of Redis per job with one handler: a claim, then one commit. */
async function recorded(job: { id?: string; data: { dedupeKey: string; messageType: MessageType } }) {
  if (!store) return;
  const claim = await store.claim(BENCH_HANDLER, job.data.dedupeKey, 35_000);
  if (claim.state !== 'claimed') return;
  await store.commit([{ handler: BENCH_HANDLER, dedupeKey: job.data.dedupeKey, token: claim.token }], {
    type: job.data.messageType,
    jobId: job.id ?? '',
    outcome: 'completed',
  });
}

const workers = TYPES.map(
  t =>
    new Worker(t, recorded, {
      connection: new Redis(config.redisUrl, { maxRetriesPerRequest: null }),
      prefix: config.prefix,
      concurrency: config.concurrency,
      autorun: false,
    }),
);
for (const w of workers) {
  w.on('completed', () => {
    completed += 1;
    if (completed === config.jobs) resolveAll();
  });
}
await Promise.all(workers.map(w => w.waitUntilReady()));

async function addByType(batch: typeof jobs): Promise<void> {
  const byType = new Map<MessageType, typeof batch>();
  for (const j of batch) byType.set(j.type, [...(byType.get(j.type) ?? []), j]);
  await Promise.all([...byType].map(([t, list]) => queues.get(t)?.addBulk(list)));
}

/** What a paced producer owes at each 20 ms tick, added in one addBulk per type. */
async function producePaced(rate: number): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  while (next < jobs.length) {
    const due = Math.min(jobs.length, Math.floor(((performance.now() - t0) / 1000) * rate));
    if (due > next) await addByType(jobs.slice(next, (next = due)));
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

async function produce(): Promise<void> {
  if (config.ratePerSecond) return producePaced(config.ratePerSecond);
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < jobs.length) {
      await addByType(jobs.slice(next, (next += config.bulkSize)));
    }
  };
  await Promise.all(Array.from({ length: config.producers }, one));
}

process.on('message', (m: { type: string }) => {
  if (m.type !== 'go') return;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const w of workers) void w.run();
  void produce()
    .then(() => allDone)
    .then(async () => {
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      send({ type: 'done', completed, ms, cpuMs: (cpu.user + cpu.system) / 1000 });
      await Promise.all(workers.map(w => w.close()));
      process.exit(0);
    });
});
send({ type: 'ready' });
