// Part of the redis scenario: Redis CPU per receipt at a steady 1,000 receipts/s (a CAMS account's peak),
// for the daemon and for BullMQ alone offered the same rate. Unlike a drain, where both run flat out and
// the daemon's CPU is the limit, neither side is saturated here, as in production.
//
// Both run at the same time, each on a redis-server of its own, the two servers sharing one core: on a
// shared VM the CPU time one command costs drifts by a third within a minute, and two servers side by side
// drift together, so their ratio holds (redis-records-paced.ts checks it with BullMQ alone on both).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDaemon, type BenchContext } from './lib/measure.js';
import { cpuMsOf, percentile, round, sleep, type PrivateRedis } from './lib/system.js';
import { measureAt } from './latency.js';
import { configSchema } from '../src/config/schema.js';
import { seedPastBuckets } from './lib/past-buckets.js';
import { BENCH_HANDLER } from './lib/load.js';
import { startChild } from './lib/child.js';
import type { CeilingBullmqConfig } from './lib/ceiling-bullmq-child.js';
import type { Redis } from 'ioredis';
import {
  commandStats,
  readsProcessed,
  SCRIPT_LOG,
  startScriptLog,
  stopScriptLog,
} from './lib/redis-footprint.js';

export const PACED_RATE = 1_000;
const WINDOW_S = configSchema.pipeline.idempotencyTtlSeconds.default;
const BULLMQ_CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'lib', 'ceiling-bullmq-child.ts');

export interface PacedCpu {
  /** Redis CPU µs per receipt, the median over the rounds. */
  readonly daemon: number;
  readonly bullmq: number;
  /** daemon ÷ BullMQ alone in each round (the two ran at the same time). */
  readonly ratios: readonly number[];
  /**
   * What the daemon adds to BullMQ alone's cost, µs per receipt, the median over the rounds: steadier than
   * the ratio, whose denominator moves with the VM's speed.
   */
  readonly addedUs: number;
  /** Redis socket reads (each a wake-up and a syscall) per receipt, the median over the rounds. */
  readonly reads: { readonly daemon: number; readonly bullmq: number };
  /** Lua script calls (EVALSHA) per receipt and the µs they cost in all, the median over the rounds. */
  readonly scripts: { readonly daemon: ScriptCost; readonly bullmq: ScriptCost };
  /** How busy the clients' core was (daemon, emulator, load, BullMQ alone), the highest round, in %. */
  readonly clientCorePercent: number;
  readonly receipts: number;
}

export interface ScriptCost {
  readonly calls: number;
  readonly us: number;
}

export interface Run {
  /** Redis CPU µs per item. */
  readonly cpuUs: number;
  readonly reads: number;
  readonly scripts: ScriptCost;
}

/** Socket reads and script calls so far, since the last RESETSTAT. */
async function counters(redis: Redis): Promise<{ reads: number; scripts: ScriptCost }> {
  const evalsha = (await commandStats(redis)).get('evalsha') ?? { calls: 0, usec: 0 };
  return { reads: await readsProcessed(redis), scripts: { calls: evalsha.calls, us: evalsha.usec } };
}

function perItem(c: Awaited<ReturnType<typeof counters>>, n: number): Omit<Run, 'cpuUs'> {
  return { reads: c.reads / n, scripts: { calls: c.scripts.calls / n, us: c.scripts.us / n } };
}

/** What `redis` spent on `n` items since `cpuMs0` (its CPU time then) and the last RESETSTAT. */
export async function runOn(redis: PrivateRedis, cpuMs0: number, n: number): Promise<Run> {
  const cpuUs = Math.round(((cpuMsOf(redis.pid) - cpuMs0) * 1000) / n);
  return { cpuUs, ...perItem(await counters(redis.client), n) };
}

interface Round {
  readonly daemon: Run;
  readonly bullmq: Run;
  readonly clientCorePercent: number;
}

/**
 * BullMQ alone, offered PACED_RATE on `redis`: addBulk per type every 20 ms, no-op workers; with
 * `withRecords`, each job also claims and commits its record, as the daemon's workers do.
 */
export function startBullmq(redis: PrivateRedis, jobs: number, withRecords = false) {
  return startChild(BULLMQ_CHILD, {
    redisUrl: redis.url,
    prefix: '{ceiling}',
    jobs,
    bulkSize: 100,
    producers: 1,
    concurrency: 256,
    ratePerSecond: PACED_RATE,
    withRecords,
  } satisfies CeilingBullmqConfig);
}

/** The daemon on ctx.redis and BullMQ alone on `other`, at the same time. */
async function sideBySide(ctx: BenchContext, other: PrivateRedis, receipts: number): Promise<Round> {
  const daemon = await freshDaemon(ctx, 'redis-paced');
  try {
    await seedPastBuckets(ctx.redis.client, configSchema.redis.prefix.default, BENCH_HANDLER, WINDOW_S);
    await sleep(2000);
    // Not measured: the first seconds compile the hot paths and open the connections a steady rate keeps.
    await measureAt(ctx, daemon.pid, PACED_RATE, 3000, 'redis-paced');
    await other.flush();
    const bullmq = await startBullmq(other, receipts);
    try {
      await Promise.all([ctx.redis.client.config('RESETSTAT'), other.client.config('RESETSTAT')]);
      const otherCpu0 = cpuMsOf(other.pid);
      if (SCRIPT_LOG) await startScriptLog(ctx.redis.client);
      if (SCRIPT_LOG) await startScriptLog(other.client);
      bullmq.send({ type: 'go' });
      const [run, done] = await Promise.all([
        measureAt(ctx, daemon.pid, PACED_RATE, (receipts / PACED_RATE) * 1000, 'redis-paced'),
        bullmq.next('done'),
      ]);
      if (SCRIPT_LOG)
        ctx.log(`  by script, daemon: ${(await stopScriptLog(ctx.redis.client, receipts)).join(', ')}`);
      if (SCRIPT_LOG)
        ctx.log(`  by script, bullmq: ${(await stopScriptLog(other.client, receipts)).join(', ')}`);
      const [ours, theirs] = await Promise.all([
        counters(ctx.redis.client),
        runOn(other, otherCpu0, receipts),
      ]);
      const sent = Math.max(1, run.offered.sent);
      const { cpuMs, wallMs } = run.window;
      const clients = (cpuMs['daemon'] ?? 0) + (cpuMs['emulator'] ?? 0) + (cpuMs['driver'] ?? 0);
      return {
        daemon: { cpuUs: Math.round(((cpuMs['redis'] ?? 0) * 1000) / sent), ...perItem(ours, sent) },
        bullmq: theirs,
        clientCorePercent: Math.round(((clients + Number(done['cpuMs'])) / Math.max(1, wallMs)) * 100),
      };
    } finally {
      await bullmq.stop();
    }
  } finally {
    await daemon.stop();
  }
}

export const describe = (r: Run): string =>
  `${r.cpuUs} µs, ${r.reads.toFixed(2)} socket reads, ${r.scripts.calls.toFixed(2)} script calls (${Math.round(r.scripts.us)} µs)`;

const medianCost = (xs: readonly ScriptCost[]): ScriptCost => ({
  calls: round(median(xs.map(x => x.calls)), 2),
  us: Math.round(median(xs.map(x => x.us))),
});

/** The median of the rounds (the middle one: rounds are odd). */
export const median = (xs: readonly number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * `rounds` rounds of the daemon and BullMQ alone side by side, each offered `receipts` at PACED_RATE, on
 * ctx.redis and `twin` (pinned beside it) in turn; the median of the rounds is reported.
 */
export async function pacedRedisCpu(
  ctx: BenchContext,
  twin: PrivateRedis,
  receipts: number,
  rounds: number,
): Promise<PacedCpu> {
  const all: Round[] = [];
  for (let n = 1; n <= rounds; n++) {
    ctx.log(`redis: round ${n} of ${rounds}, daemon and BullMQ alone side by side at ${PACED_RATE}/s`);
    // Each server takes each side in turn, so that a difference between them cancels out.
    const r =
      n % 2 === 1
        ? await sideBySide(ctx, twin, receipts)
        : await sideBySide({ ...ctx, redis: twin }, ctx.redis, receipts);
    all.push(r);
    ctx.log(`  Redis CPU per receipt: daemon ${describe(r.daemon)}; BullMQ alone ${describe(r.bullmq)}`);
    ctx.log(`  the clients' core was ${r.clientCorePercent}% busy`);
  }
  return {
    daemon: median(all.map(r => r.daemon.cpuUs)),
    bullmq: median(all.map(r => r.bullmq.cpuUs)),
    ratios: all.map(r => round(r.daemon.cpuUs / Math.max(1, r.bullmq.cpuUs), 2)),
    addedUs: median(all.map(r => r.daemon.cpuUs - r.bullmq.cpuUs)),
    reads: { daemon: median(all.map(r => r.daemon.reads)), bullmq: median(all.map(r => r.bullmq.reads)) },
    scripts: {
      daemon: medianCost(all.map(r => r.daemon.scripts)),
      bullmq: medianCost(all.map(r => r.bullmq.scripts)),
    },
    clientCorePercent: Math.max(...all.map(r => r.clientCorePercent)),
    receipts,
  };
}
