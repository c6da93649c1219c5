// Part of the redis scenario: what the idempotency records alone cost Redis at 1,000 jobs/s. BullMQ with
// the daemon's claim and commit scripts runs side by side with BullMQ alone (each on its own redis-server,
// the two sharing a core, as in redis-paced.ts), without the daemon's SMQ loop, sink or completion reader.
// A first round runs BullMQ alone on both servers: its ratio shows how far the two servers agree.
import type { BenchContext } from './lib/measure.js';
import { cpuMsOf, round, sleep, type PrivateRedis } from './lib/system.js';
import { configSchema } from '../src/config/schema.js';
import { seedPastBuckets } from './lib/past-buckets.js';
import { BENCH_HANDLER } from './lib/load.js';
import { describe, runOn, startBullmq } from './redis-paced.js';

const WINDOW_S = configSchema.pipeline.idempotencyTtlSeconds.default;

export interface PacedRecords {
  /** BullMQ alone against BullMQ alone, side by side: 1 when the two servers agree. */
  readonly sameOnBoth: number;
  /** BullMQ with claims and commits ÷ BullMQ alone, each round. */
  readonly ratios: readonly number[];
  /** What the scripts add to BullMQ alone's cost, µs per job, each round. */
  readonly addedUs: readonly number[];
}

async function pair(ctx: BenchContext, twin: PrivateRedis, jobs: number, withRecords: boolean) {
  await Promise.all([ctx.redis.flush(), twin.flush()]);
  // The older buckets a week in production leaves, as for the daemon.
  if (withRecords) await seedPastBuckets(ctx.redis.client, '{ceiling}', BENCH_HANDLER, WINDOW_S);
  const [ours, theirs] = await Promise.all([
    startBullmq(ctx.redis, jobs, withRecords),
    startBullmq(twin, jobs),
  ]);
  try {
    await sleep(500);
    await Promise.all([ctx.redis.client.config('RESETSTAT'), twin.client.config('RESETSTAT')]);
    const cpu0 = [cpuMsOf(ctx.redis.pid), cpuMsOf(twin.pid)] as const;
    ours.send({ type: 'go' });
    theirs.send({ type: 'go' });
    await Promise.all([ours.next('done'), theirs.next('done')]);
    const [mine, other] = await Promise.all([runOn(ctx.redis, cpu0[0], jobs), runOn(twin, cpu0[1], jobs)]);
    return { ours: mine, theirs: other };
  } finally {
    await Promise.all([ours.stop(), theirs.stop()]);
  }
}

export async function pacedRecordsCpu(
  ctx: BenchContext,
  twin: PrivateRedis,
  jobs: number,
  rounds: number,
): Promise<PacedRecords> {
  ctx.log('redis: BullMQ alone on both servers side by side (do they agree?)');
  const same = await pair(ctx, twin, jobs, false);
  const sameOnBoth = round(same.ours.cpuUs / Math.max(1, same.theirs.cpuUs), 2);
  ctx.log(`  ${describe(same.ours)} ÷ ${describe(same.theirs)} = ${sameOnBoth}`);
  const ratios: number[] = [];
  const addedUs: number[] = [];
  for (let n = 1; n <= rounds; n++) {
    ctx.log(`redis: round ${n} of ${rounds}, BullMQ + claim and commit beside BullMQ alone`);
    // Each server takes each side in turn, so that a difference between them cancels out.
    const r =
      n % 2 === 1
        ? await pair(ctx, twin, jobs, true)
        : await pair({ ...ctx, redis: twin }, ctx.redis, jobs, true);
    ratios.push(round(r.ours.cpuUs / Math.max(1, r.theirs.cpuUs), 2));
    addedUs.push(r.ours.cpuUs - r.theirs.cpuUs);
    ctx.log(`  with records ${describe(r.ours)}; alone ${describe(r.theirs)}`);
  }
  return { sameOnBoth, ratios, addedUs };
}
