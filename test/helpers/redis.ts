import { randomUUID } from 'node:crypto';

/** The suite's Redis (scripts/test.ts starts a private one unless REDIS_URL is set). Never flush it. */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set; run the tests with `npm test`');
  return url;
}

/** A key prefix no other test uses, with the hash tag BullMQ needs on Redis Cluster. */
export function uniquePrefix(name = 'test'): string {
  return `{${name}-${randomUUID().slice(0, 8)}}`;
}

export { freePort } from '../../src/local/private-redis.js';

/** A Redis of the test's own, which the test may stop, restart or flush. */
export { PrivateRedisServer as PrivateRedis } from '../../src/local/private-redis.js';

/** Polls `predicate` until it holds, or fails after `timeoutMs` with `what`. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise(r => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
