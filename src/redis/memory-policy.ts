import type { Logger } from '../contracts/logger.js';
import type { RedisClient } from './connection.js';

/** maxmemory and maxmemory-policy, from INFO memory (which managed Redis allows where CONFIG GET is off). */
export async function memoryPolicy(redis: RedisClient): Promise<{ policy: string; maxmemoryBytes: number }> {
  const info = await redis.info('memory');
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  return { policy: field('maxmemory_policy') ?? 'unknown', maxmemoryBytes: Number(field('maxmemory') ?? 0) };
}

/**
 * BullMQ and the idempotency records need `noeviction`: under any other policy a full Redis drops keys, and a
 * dropped record or job lets a receipt be applied twice. Warns loudly at start-up; never fails it.
 */
export async function warnUnlessNoEviction(redis: RedisClient, logger: Logger): Promise<void> {
  let found: { policy: string; maxmemoryBytes: number };
  try {
    found = await memoryPolicy(redis);
  } catch {
    return; // INFO refused (some managed editions rename it): nothing to judge by.
  }
  if (found.policy === 'noeviction') return;
  logger.warn(
    `Redis maxmemory-policy is ${found.policy}, not noeviction: when Redis fills up it will evict jobs and idempotency records, and receipts may be applied twice. Set maxmemory-policy noeviction`,
    { event: 'redis_eviction_policy', policy: found.policy, maxmemoryBytes: found.maxmemoryBytes },
  );
}
