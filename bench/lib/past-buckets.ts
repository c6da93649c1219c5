// A handler's records as a long-running deployment holds them: besides the current day bucket, the older
// buckets of the idempotency window, each with shards of realistic size. A claim looks for its receipt in
// every live bucket, so a fresh Redis (one bucket) would understate what a claim costs in production.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { IdempotencyStore, bucketSecondsFor, recordDigest } from '../../src/pipeline/idempotency.js';
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
    // One record of a known key per bucket, for the check below; the rest random.
    const digests = [
      recordDigest(seededKey(bucket)),
      ...Array.from({ length: RECORDS_PER_SHARD - 1 }, () => randomBytes(12)),
    ];
    const fields = digests.flatMap(d => [d, '1']);
    multi.hset(key, ...fields);
    multi.expireat(key, (bucket + 1) * bucketSeconds + windowSeconds + 60);
    multi.hset(meta, String(bucket), `0:0:${RECORDS_PER_SHARD}`);
    shardKeys.push(key);
  }
  await multi.exec();
  await assertFound(redis, prefix, handler, windowSeconds, [oldest, current - 1]);
  return { shardKeys };
}

const seededKey = (bucket: number): string => `seeded-${bucket}|Read`;

/** The layout is written here by hand: a claim must find what was seeded, or the figures would mislead. */
async function assertFound(
  redis: Redis,
  prefix: string,
  handler: string,
  windowSeconds: number,
  buckets: readonly number[],
): Promise<void> {
  const store = new IdempotencyStore(redis, new KeySpace(prefix), windowSeconds);
  for (const bucket of buckets) {
    const claim = await store.claim(handler, seededKey(bucket), 1000);
    if (claim.state !== 'done')
      throw new Error(
        `a claim did not find the record seeded in bucket ${bucket}: past-buckets.ts no longer writes the layout of record-scripts.ts`,
      );
  }
}
