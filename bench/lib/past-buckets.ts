// A handler's records as a long-running deployment holds them: besides the current day bucket, the older
// buckets of the idempotency window, each with shards of realistic size. A claim looks for its receipt in
// every live bucket, so a fresh Redis (one bucket) would understate what a claim costs in production.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { bucketSecondsFor } from '../../src/pipeline/idempotency.js';
import { KeySpace } from '../../src/pipeline/keys.js';

/** Records per seeded shard: between a shard's size right after a split and right before it (SHARD_LOAD). */
const RECORDS_PER_SHARD = 34;

/** The shards seeded, so a footprint can count them apart from the run's own records. */
export interface Seeded {
  readonly shardKeys: readonly string[];
}

/**
 * Gives `handler` under `prefix` every older bucket of the window, each one shard of RECORDS_PER_SHARD
 * records (level 0): a claim then checks as many buckets as in production, each a listpack of about the
 * size production shards have.
 */
export async function seedPastBuckets(
  redis: Redis,
  prefix: string,
  handler: string,
  windowSeconds: number,
): Promise<Seeded> {
  const meta = new KeySpace(prefix).at(0).records(handler);
  const bucketSeconds = bucketSecondsFor(windowSeconds);
  const [seconds] = await redis.time();
  const now = Number(seconds);
  const current = Math.floor(now / bucketSeconds);
  const oldest = Math.floor((now - windowSeconds) / bucketSeconds);
  const shardKeys: string[] = [];
  const multi = redis.multi();
  for (let bucket = oldest; bucket < current; bucket++) {
    const key = `${meta}:${bucket}:0`;
    const fields = Array.from({ length: RECORDS_PER_SHARD }, () => [randomBytes(12), '1']).flat();
    multi.hset(key, ...fields);
    multi.expireat(key, (bucket + 1) * bucketSeconds + windowSeconds + 60);
    multi.hset(meta, String(bucket), `0:0:${RECORDS_PER_SHARD}`);
    shardKeys.push(key);
  }
  await multi.exec();
  return { shardKeys };
}
