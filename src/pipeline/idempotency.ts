import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { KeySpace } from './keys.js';

export type ClaimResult =
  | { readonly state: 'done' }
  | { readonly state: 'busy'; readonly retryInMs: number }
  | { readonly state: 'claimed'; readonly token: string };

// Done-check and lock in one round trip: a receipt a handler already completed is never claimed again.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'done' end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
return 'busy:' .. redis.call('PTTL', KEYS[2])`;

// Record completion and release the lock only if we still own it.
const COMPLETE = `
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0`;

/**
 * Per-(handler, dedupe key) completion records with a TTL, plus a lease so two workers never run
 * the same handler for the same receipt at once. Records outlive BullMQ jobs, so a redelivery days
 * later is still recognised.
 */
interface ScriptCommands {
  camsClaim(done: string, lock: string, token: string, leaseMs: string): Promise<string>;
  camsComplete(done: string, lock: string, token: string, ttlSeconds: string): Promise<number>;
  camsRelease(done: string, lock: string, token: string): Promise<number>;
}

export class IdempotencyStore {
  private readonly scripts: ScriptCommands;

  constructor(
    redis: Redis,
    private readonly keys: KeySpace,
    private readonly ttlSeconds: number,
  ) {
    // EVALSHA after the first call: the scripts are sent once per connection, not per receipt.
    redis.defineCommand('camsClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('camsComplete', { numberOfKeys: 2, lua: COMPLETE });
    redis.defineCommand('camsRelease', { numberOfKeys: 2, lua: RELEASE });
    this.scripts = redis as unknown as ScriptCommands;
    this.redis = redis;
  }

  private readonly redis: Redis;

  async claim(handler: string, dedupeKey: string, leaseMs: number): Promise<ClaimResult> {
    const token = randomUUID();
    const state = await this.scripts.camsClaim(
      this.keys.done(handler, dedupeKey),
      this.keys.lock(handler, dedupeKey),
      token,
      String(leaseMs),
    );
    if (state === 'claimed') return { state, token };
    if (state === 'done') return { state };
    return { state: 'busy', retryInMs: Math.max(100, Number(state.slice('busy:'.length)) || leaseMs) };
  }

  async complete(handler: string, dedupeKey: string, token: string): Promise<void> {
    await this.scripts.camsComplete(
      this.keys.done(handler, dedupeKey),
      this.keys.lock(handler, dedupeKey),
      token,
      String(this.ttlSeconds),
    );
  }

  async release(handler: string, dedupeKey: string, token: string): Promise<void> {
    await this.scripts.camsRelease(
      this.keys.done(handler, dedupeKey),
      this.keys.lock(handler, dedupeKey),
      token,
    );
  }

  async isDone(handler: string, dedupeKey: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.done(handler, dedupeKey))) === 1;
  }

  /** Forgets that a handler completed a receipt (used by dead-letter replay). */
  async forget(handler: string, dedupeKey: string): Promise<void> {
    await this.redis.del(this.keys.done(handler, dedupeKey));
  }
}
