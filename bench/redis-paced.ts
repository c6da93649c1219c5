// Part of the redis scenario: Redis CPU per receipt at a steady 1,000 receipts/s (a CAMS account's peak),
// for the daemon and for BullMQ alone offered the same rate. Unlike a drain, where both run flat out and
// the daemon's CPU is the limit, neither side is saturated here, as in production.
import { bullmqCeiling } from './lib/comparisons.js';
import { freshDaemon, type BenchContext } from './lib/measure.js';
import { sleep } from './lib/system.js';
import { measureAt } from './latency.js';
import { SCRIPT_LOG, startScriptLog, stopScriptLog } from './lib/redis-footprint.js';

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

export interface PacedCpu {
  /** Redis CPU µs per receipt. */
  readonly daemon: number;
  readonly bullmq: number;
  readonly receipts: number;
}

async function daemonAt(ctx: BenchContext, rate: number, durationMs: number): Promise<number> {
  const daemon = await freshDaemon(ctx, 'redis-paced');
  try {
    await sleep(2000);
    // Not measured: the first seconds compile the hot paths and open the connections a steady rate keeps.
    await measureAt(ctx, daemon.pid, rate, 3000, 'redis-paced');
    const n = (rate * durationMs) / 1000;
    const run = await scriptLogged(
      ctx,
      'daemon',
      () => measureAt(ctx, daemon.pid, rate, durationMs, 'redis-paced'),
      n,
    );
    return Math.round(((run.window.cpuMs['redis'] ?? 0) * 1000) / Math.max(1, run.offered.sent));
  } finally {
    await daemon.stop();
  }
}

export async function pacedRedisCpu(ctx: BenchContext, receipts: number): Promise<PacedCpu> {
  ctx.log(`redis: BullMQ alone at ${PACED_RATE}/s, ${receipts} jobs`);
  const b = await bullmqCeiling(
    ctx,
    {
      jobs: receipts,
      bulkSize: 100,
      producers: 1,
      concurrency: 256,
      ratePerSecond: PACED_RATE,
    },
    SCRIPT_LOG ? () => startScriptLog(ctx.redis.client) : undefined,
  );
  if (SCRIPT_LOG)
    ctx.log(`  by script, BullMQ alone: ${(await stopScriptLog(ctx.redis.client, receipts)).join(', ')}`);
  ctx.log(`  ${b.cpuUsPerItem.redis} µs Redis CPU per job`);
  ctx.log(`redis: daemon at ${PACED_RATE}/s, ${receipts} receipts`);
  const daemon = await daemonAt(ctx, PACED_RATE, (receipts / PACED_RATE) * 1000);
  ctx.log(`  ${daemon} µs Redis CPU per receipt`);
  return { daemon, bullmq: b.cpuUsPerItem.redis, receipts };
}
