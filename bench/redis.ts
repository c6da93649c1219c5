// Scenario: Redis footprint. The daemon drains N distinct receipts (one handler); then what Redis retains
// is measured by kind with INFO memory (used_memory before the run, then each kind's keys deleted in turn),
// and Redis's own CPU time per receipt (/proc/<pid>/stat of redis-server) is compared with BullMQ alone
// (addBulk + no-op workers, the daemon's job options) in the same run. From the bytes per item, the memory
// Redis needs at a steady 100, 1,000 and 5,000 receipts/s over the default idempotency window.
import { configSchema } from '../src/config/schema.js';
import { MESSAGE_TYPES } from '../src/receipts/types.js';
import { bullmqCeiling } from './lib/comparisons.js';
import { HANDLER_PREFIX, runDaemon } from './lib/daemon-run.js';
import { BENCH_HANDLER, BENCH_QUEUES, TYPE_MIX, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import {
  commandStats,
  readsProcessed,
  topCommands,
  footprint,
  retainedJobs,
  streamLength,
  usedMemory,
  SCRIPT_LOG,
  startScriptLog,
  stopScriptLog,
  type Footprint,
  type Kind,
} from './lib/redis-footprint.js';
import type { Figure, ScenarioResult } from './lib/report.js';
import { round, startRedis, type PrivateRedis } from './lib/system.js';
import { pinRedis } from './lib/pin.js';
import { PACED_RATE, median, pacedRedisCpu } from './redis-paced.js';
import { pacedRecordsCpu } from './redis-records-paced.js';
import { seedPastBuckets, type Seeded } from './lib/past-buckets.js';
import { bucketSecondsFor } from '../src/pipeline/idempotency.js';

/** BENCH_REDIS_SHARED_CORES=1: leave redis-server sharing cores with everything else. */
const SHARED_CORES = process.env['BENCH_REDIS_SHARED_CORES'] === '1';

export const REDIS_RECORD_TARGET_BYTES = 25;
export const REDIS_CPU_TARGET_OF_BULLMQ = 1.25;

const P = configSchema.pipeline;
const WINDOW_S = P.idempotencyTtlSeconds.default;
const MAX_LEN = P.eventsMaxLen.default;
const KEEP_COUNT = P.removeCompletedCount.default;
const KEEP_AGE_S = P.removeCompletedAgeSeconds.default;
const RATES = [100, 1_000, 5_000];
/** Receipts per paced run (10 s at PACED_RATE), and rounds of the daemon beside BullMQ alone. */
const PACED_RECEIPTS = 10_000;
const PACED_ROUNDS = 5;
/** Rounds of BullMQ with the claim and commit scripts beside BullMQ alone. */
const RECORDS_ROUNDS = 3;

const HANDLERS = 1;

function daemonKinds(prefix: string, seeded: Seeded): Kind[] {
  return [
    { name: 'benchmark handler bookkeeping (not the daemon)', patterns: [`${HANDLER_PREFIX}:*`] },
    { name: 'older buckets the benchmark seeded (not this run)', patterns: seeded.shardKeys },
    { name: 'idempotency records', patterns: [`${prefix}:idem:*`, `${prefix}:done:*`] },
    { name: 'claims (should be none left)', patterns: [`${prefix}:lock:*`] },
    {
      name: 'completion stream',
      patterns: [`${prefix}:finished`],
      count: r => streamLength(r, [`${prefix}:finished`]),
    },
    ...bullmqKinds(prefix),
  ];
}

function bullmqKinds(prefix: string): Kind[] {
  const queues = MESSAGE_TYPES.map(t => `${prefix}:${t}`);
  return [
    {
      name: 'BullMQ event streams',
      patterns: queues.map(q => `${q}:events`),
      count: r =>
        streamLength(
          r,
          queues.map(q => `${q}:events`),
        ),
    },
    {
      name: 'BullMQ jobs and queue keys',
      patterns: queues.map(q => `${q}:*`),
      count: r => retainedJobs(r, queues),
    },
  ];
}

interface PerItem {
  recordBytes: number;
  streamEntryBytes: number;
  eventEntryBytes: number;
  jobBytes: number;
}

function perItem(f: Footprint, receipts: number): PerItem {
  const kind = (name: string) => f.kinds.find(k => k.name === name);
  const per = (name: string, n: number | undefined) =>
    round((kind(name)?.bytes ?? 0) / Math.max(1, n ?? 0), 1);
  return {
    recordBytes: per('idempotency records', receipts * HANDLERS),
    streamEntryBytes: per('completion stream', kind('completion stream')?.items),
    eventEntryBytes: per('BullMQ event streams', kind('BullMQ event streams')?.items),
    jobBytes: per('BullMQ jobs and queue keys', kind('BullMQ jobs and queue keys')?.items),
  };
}

/** A record lives the window plus up to one bucket (its bucket expires whole): this many seconds at the peak. */
const RECORD_PEAK_S = WINDOW_S + bucketSecondsFor(WINDOW_S);

/** Redis memory at a steady rate once every bound is reached (records at their peak), by part, in bytes. */
export function projection(rate: number, b: PerItem) {
  const records = rate * HANDLERS * RECORD_PEAK_S * b.recordBytes;
  const stream = MAX_LEN * b.streamEntryBytes;
  const events = MESSAGE_TYPES.length * MAX_LEN * b.eventEntryBytes;
  const jobs = MESSAGE_TYPES.reduce(
    (s, t) => s + Math.min(KEEP_COUNT, rate * TYPE_MIX[t] * KEEP_AGE_S) * b.jobBytes,
    0,
  );
  return { records, stream, events, jobs, total: records + stream + events + jobs };
}

const gb = (bytes: number): number => round(bytes / 1e9, 2);

export async function redisScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const receipts = ctx.quick ? 5_000 : 20_000;
  const load = buildLoad(receipts, 0);

  // BullMQ alone's redis-server for the paced comparison, side by side with the daemon's.
  const twin = await startRedis();
  const pinning = SHARED_CORES ? undefined : pinRedis([ctx.redis.pid, twin.pid], [ctx.emulator.pid]);
  try {
    return await measure(ctx, twin, receipts, load, pinning?.described ?? 'redis-servers share the cores');
  } finally {
    pinning?.restore();
    await twin.stop();
  }
}

async function measure(
  ctx: BenchContext,
  twin: PrivateRedis,
  receipts: number,
  load: ReturnType<typeof buildLoad>,
  cores: string,
): Promise<ScenarioResult> {
  const prefix = configSchema.redis.prefix.default;
  ctx.log(`redis: BullMQ alone, ${receipts} jobs (${cores})`);
  let bullBaseline = 0;
  const b = await bullmqCeiling(
    ctx,
    { jobs: receipts, bulkSize: 100, producers: 4, concurrency: 256 },
    async () => {
      bullBaseline = await usedMemory(ctx.redis.client);
      await ctx.redis.client.config('RESETSTAT');
      if (SCRIPT_LOG) await startScriptLog(ctx.redis.client);
    },
  );
  const bullScripts = SCRIPT_LOG ? await stopScriptLog(ctx.redis.client, receipts) : [];
  const bullReads = (await readsProcessed(ctx.redis.client)) / receipts;
  const bullStats = await commandStats(ctx.redis.client);
  const bullCommands = topCommands(bullStats, receipts);
  const bullFoot = await footprint(ctx.redis.client, bullBaseline, bullmqKinds('{ceiling}'));
  ctx.log(`  ${b.cpuUsPerItem.redis} µs Redis CPU per job`);

  ctx.log(`redis: BullMQ + the daemon's claim and commit scripts, ${receipts} jobs`);
  const r = await bullmqCeiling(
    ctx,
    { jobs: receipts, bulkSize: 100, producers: 4, concurrency: 256, withRecords: true },
    async () => void (await seedPastBuckets(ctx.redis.client, '{ceiling}', BENCH_HANDLER, WINDOW_S)),
  );
  ctx.log(`  ${r.cpuUsPerItem.redis} µs Redis CPU per job`);

  ctx.log(`redis: daemon, ${receipts} receipts`);
  let baseline = 0;
  let seeded: Seeded = { shardKeys: [] };
  const d = await runDaemon(ctx, {
    name: 'redis',
    queues: BENCH_QUEUES,
    load,
    timeoutMs: 240_000,
    beforeStart: async () => {
      seeded = await seedPastBuckets(ctx.redis.client, prefix, BENCH_HANDLER, WINDOW_S);
      baseline = await usedMemory(ctx.redis.client);
      await ctx.redis.client.config('RESETSTAT');
      if (SCRIPT_LOG) await startScriptLog(ctx.redis.client);
    },
  });
  const daemonScripts = SCRIPT_LOG ? await stopScriptLog(ctx.redis.client, receipts) : [];
  const daemonReads = (await readsProcessed(ctx.redis.client)) / receipts;
  const daemonStats = await commandStats(ctx.redis.client);
  const daemonCommands = topCommands(daemonStats, receipts);
  const foot = await footprint(ctx.redis.client, baseline, daemonKinds(prefix, seeded));
  const handled = d.watch.emptied && d.record.distinct === load.distinct && d.record.handledTwice === 0;
  ctx.log(`  ${d.cpuUsPerReceipt.redis} µs Redis CPU per receipt, ${foot.totalBytes} B retained`);

  const paced = await pacedRedisCpu(ctx, twin, PACED_RECEIPTS, ctx.quick ? 1 : PACED_ROUNDS);
  const pacedRatio = median(paced.ratios);
  const records = await pacedRecordsCpu(ctx, twin, PACED_RECEIPTS, ctx.quick ? 1 : RECORDS_ROUNDS);

  const items = perItem(foot, receipts);
  const ofBullmq = round(d.cpuUsPerReceipt.redis / Math.max(1, b.cpuUsPerItem.redis), 2);
  const bench = foot.kinds[0]?.bytes ?? 0;
  const perReceipt = round((foot.totalBytes - bench) / receipts, 1);
  const projections = RATES.map(rate => ({ rate, ...projection(rate, items) }));
  const figures: Figure[] = [
    {
      metric: 'idempotency records, per (handler, receipt)',
      value: items.recordBytes,
      unit: 'B',
      target: `≤ ${REDIS_RECORD_TARGET_BYTES} B`,
      met: items.recordBytes <= REDIS_RECORD_TARGET_BYTES,
    },
    { metric: 'completion stream, per entry', value: items.streamEntryBytes, unit: 'B' },
    { metric: 'BullMQ event streams, per entry', value: items.eventEntryBytes, unit: 'B' },
    { metric: 'BullMQ, per retained job', value: items.jobBytes, unit: 'B' },
    { metric: 'everything retained, per receipt (this run)', value: perReceipt, unit: 'B' },
    { metric: 'Redis CPU per receipt, daemon', value: d.cpuUsPerReceipt.redis, unit: 'µs' },
    {
      metric: 'Redis socket reads per receipt, daemon / BullMQ alone',
      value: `${round(daemonReads, 2)} / ${round(bullReads, 2)}`,
    },
    { metric: 'Redis CPU per job, BullMQ alone', value: b.cpuUsPerItem.redis, unit: 'µs' },
    {
      metric: `at ${PACED_RATE.toLocaleString('en-US')} receipts/s: Redis socket reads per receipt, daemon / BullMQ alone`,
      value: `${round(paced.reads.daemon, 2)} / ${round(paced.reads.bullmq, 2)}`,
    },
    {
      metric: `at ${PACED_RATE.toLocaleString('en-US')} receipts/s: Lua script calls per receipt (and their µs), daemon / BullMQ alone`,
      value: `${paced.scripts.daemon.calls} (${paced.scripts.daemon.us} µs) / ${paced.scripts.bullmq.calls} (${paced.scripts.bullmq.us} µs)`,
    },
    {
      metric: 'Redis CPU per job, BullMQ + claim and commit scripts (÷ BullMQ alone)',
      value: `${r.cpuUsPerItem.redis} µs (${round(r.cpuUsPerItem.redis / Math.max(1, b.cpuUsPerItem.redis), 2)})`,
    },
    { metric: 'draining: daemon ÷ BullMQ alone (Redis CPU)', value: ofBullmq },
    {
      metric: `at ${PACED_RATE.toLocaleString('en-US')} receipts/s: Redis CPU per receipt, daemon ÷ BullMQ alone (median of rounds)`,
      value: `${paced.daemon} ÷ ${paced.bullmq} µs; rounds ${paced.ratios.join(', ')}; median ${pacedRatio} (the daemon adds ${paced.addedUs} µs)`,
      target: `≤ ${REDIS_CPU_TARGET_OF_BULLMQ}`,
      met: pacedRatio <= REDIS_CPU_TARGET_OF_BULLMQ,
    },
    {
      metric: `at ${PACED_RATE.toLocaleString('en-US')} jobs/s: Redis CPU per job, BullMQ + claim and commit ÷ BullMQ alone (median of rounds)`,
      value: `rounds ${records.ratios.join(', ')}; median ${median(records.ratios)} (the scripts add ${median(records.addedUs)} µs)`,
    },
    {
      metric: 'side by side, BullMQ alone ÷ BullMQ alone (how far the two redis-servers agree)',
      value: records.sameOnBoth,
    },
    ...projections.map(p => ({
      metric: `projected Redis memory at ${p.rate.toLocaleString('en-US')} receipts/s`,
      value: `${gb(p.total)} GB (records ${gb(p.records)}, jobs ${gb(p.jobs)}, streams ${gb(p.stream + p.events)})`,
    })),
    { metric: 'every receipt handled once', value: handled ? 'yes' : 'NO', met: handled },
  ];
  return {
    id: 'redis',
    title: 'Redis footprint',
    parameters: {
      receipts,
      handlers: HANDLERS,
      window: `pipeline.idempotencyTtlSeconds ${WINDOW_S} (default)`,
      olderBuckets:
        "seeded before each run: the window's older buckets (one shard of 34 records each), so claims look in as many buckets as after a week in production",
      retention: `removeOnComplete ${KEEP_COUNT} jobs / ${KEEP_AGE_S} s per queue, streams ~${MAX_LEN}`,
      measured:
        'INFO memory used_memory, before the run and after deleting each kind; redis-server CPU from /proc',
      cores,
      bullmqAlone:
        "addBulk(100) × 4 in flight, no-op workers of concurrency 256 per type, the daemon's job options",
      paced: `${PACED_RATE}/s for ${PACED_RECEIPTS / PACED_RATE} s, ${ctx.quick ? 1 : PACED_ROUNDS} round(s) of the daemon (sent to SMQ in 20 ms ticks, after a 3 s warm-up) and BullMQ alone (one addBulk per type every 20 ms) side by side, each on a redis-server of its own, the two sharing core 0; clients' core at most ${paced.clientCorePercent}% busy`,
    },
    figures,
    details: {
      commands: {
        daemon: topCommands(daemonStats, receipts, 40),
        bullmq: topCommands(bullStats, receipts, 40),
      },
      daemon: foot,
      bullmqAlone: bullFoot,
      perItem: items,
      projections,
      cpu: {
        daemon: d.cpuUsPerReceipt,
        bullmq: b.cpuUsPerItem,
        bullmqWithRecords: r.cpuUsPerItem,
        paced,
        pacedRecords: records,
      },
    },
    notes: [
      'Projections: records at their peak (the window plus the day bucket that expires last), BullMQ jobs up to removeOnComplete, streams full.',
      `Redis time per receipt by command (commandstats, scripts include the commands they run), daemon: ${daemonCommands.join(', ')}`,
      `BullMQ alone: ${bullCommands.join(', ')}`,
      ...(SCRIPT_LOG
        ? [
            `Redis time by script (SLOWLOG), daemon: ${daemonScripts.join(', ')}`,
            `BullMQ alone: ${bullScripts.join(', ')}`,
          ]
        : []),
      `BullMQ alone retained ${round(bullFoot.totalBytes / receipts, 1)} B per job in the same run.`,
    ],
  };
}
