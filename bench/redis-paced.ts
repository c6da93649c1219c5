// Part of the redis scenario: Redis CPU per receipt at a steady 1,000 receipts/s (a CAMS account's peak),
// for the daemon and for BullMQ alone offered the same rate. Unlike a drain, where both run flat out and
// the daemon's CPU is the limit, neither side is saturated here, as in production.
import { bullmqCeiling } from './lib/comparisons.js';
import { freshDaemon, type BenchContext } from './lib/measure.js';
import { percentile, round, sleep } from './lib/system.js';
import { measureAt } from './latency.js';
import { configSchema } from '../src/config/schema.js';
import { seedPastBuckets } from './lib/past-buckets.js';
import { BENCH_HANDLER } from './lib/load.js';
import { readsProcessed, SCRIPT_LOG, startScriptLog, stopScriptLog } from './lib/redis-footprint.js';

async function scriptLogged<T>(
  ctx: BenchContext,
  what: string,
  run: () => Promise<T>,
  n: number,
): Promise<T> {
  if (SCRIPT_LOG) await startScriptLog(ctx.redis.client);
  const out = await run();
  if (SCRIPT_LOG) ctx.log(`  by script, ${what}: ${(await stopScriptLog(ctx.redis.client, n)).join(', ')}`);
  return out;
}

export const PACED_RATE = 1_000;
const WINDOW_S = configSchema.pipeline.idempotencyTtlSeconds.default;

export interface PacedCpu {
  /** Redis CPU µs per receipt, the median over the rounds. */
  readonly daemon: number;
  readonly bullmq: number;
  /** daemon ÷ BullMQ alone in each round (a round runs one right after the other). */
  readonly ratios: readonly number[];
  /** Redis socket reads (each a wake-up and a syscall) per receipt, the median over the rounds. */
  readonly reads: { readonly daemon: number; readonly bullmq: number };
  readonly receipts: number;
}

interface Run {
  /** Redis CPU µs per item. */
  readonly cpuUs: number;
  readonly reads: number;
}

async function daemonAt(ctx: BenchContext, rate: number, durationMs: number): Promise<Run> {
  const daemon = await freshDaemon(ctx, 'redis-paced');
  try {
    await seedPastBuckets(ctx.redis.client, configSchema.redis.prefix.default, BENCH_HANDLER, WINDOW_S);
    await sleep(2000);
    // Not measured: the first seconds compile the hot paths and open the connections a steady rate keeps.
    await measureAt(ctx, daemon.pid, rate, 3000, 'redis-paced');
    const n = (rate * durationMs) / 1000;
    const reads = await readsProcessed(ctx.redis.client);
    const run = await scriptLogged(
      ctx,
      'daemon',
      () => measureAt(ctx, daemon.pid, rate, durationMs, 'redis-paced'),
      n,
    );
    const sent = Math.max(1, run.offered.sent);
    return {
      cpuUs: Math.round(((run.window.cpuMs['redis'] ?? 0) * 1000) / sent),
      reads: ((await readsProcessed(ctx.redis.client)) - reads) / sent,
    };
  } finally {
    await daemon.stop();
  }
}

async function bullmqAt(ctx: BenchContext, jobs: number): Promise<Run> {
  let reads = 0;
  const b = await bullmqCeiling(
    ctx,
    { jobs, bulkSize: 100, producers: 1, concurrency: 256, ratePerSecond: PACED_RATE },
    async () => {
      reads = await readsProcessed(ctx.redis.client);
      if (SCRIPT_LOG) await startScriptLog(ctx.redis.client);
    },
  );
  if (SCRIPT_LOG)
    ctx.log(`  by script, BullMQ alone: ${(await stopScriptLog(ctx.redis.client, jobs)).join(', ')}`);
  return { cpuUs: b.cpuUsPerItem.redis, reads: ((await readsProcessed(ctx.redis.client)) - reads) / jobs };
}

/** The median of the rounds (the middle one: rounds are odd). */
export const median = (xs: readonly number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * `rounds` rounds of BullMQ alone then the daemon, each offered `receipts` at PACED_RATE: on a shared
 * machine the speed drifts over a minute, so each round's ratio compares neighbours and the median of
 * the rounds is reported.
 */
export async function pacedRedisCpu(ctx: BenchContext, receipts: number, rounds: number): Promise<PacedCpu> {
  const daemon: Run[] = [];
  const bullmq: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    ctx.log(`redis: round ${round} of ${rounds}, BullMQ alone at ${PACED_RATE}/s, ${receipts} jobs`);
    const b = await bullmqAt(ctx, receipts);
    bullmq.push(b);
    ctx.log(`  ${b.cpuUs} µs Redis CPU per job, ${b.reads.toFixed(2)} socket reads`);
    ctx.log(`redis: round ${round} of ${rounds}, daemon at ${PACED_RATE}/s, ${receipts} receipts`);
    const d = await daemonAt(ctx, PACED_RATE, (receipts / PACED_RATE) * 1000);
    daemon.push(d);
    ctx.log(`  ${d.cpuUs} µs Redis CPU per receipt, ${d.reads.toFixed(2)} socket reads`);
  }
  const ratios = daemon.map((d, i) => round(d.cpuUs / Math.max(1, bullmq[i]?.cpuUs ?? 0), 2));
  return {
    daemon: median(daemon.map(d => d.cpuUs)),
    bullmq: median(bullmq.map(b => b.cpuUs)),
    ratios,
    reads: { daemon: median(daemon.map(d => d.reads)), bullmq: median(bullmq.map(b => b.reads)) },
    receipts,
  };
}
