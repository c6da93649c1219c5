import { errorMessage } from './error-message.js';

/** Redis at maxmemory under noeviction refuses every write with an error that starts with OOM. */
export function isRedisFull(err: unknown): boolean {
  return /^OOM\b/.test(errorMessage(err));
}

/** What to say when Redis refused a write because it is full. */
export const REDIS_FULL =
  'Redis is full: used memory reached maxmemory and it refuses writes (OOM); free memory or raise maxmemory (docs/redis.md, sizing)';
