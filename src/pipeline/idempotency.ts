import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { MessageType } from '../receipts/types.js';
import type { KeySpace } from './keys.js';
import type { JobOutcome } from './types.js';

export type ClaimResult =
  | { readonly state: 'done' }
  | { readonly state: 'busy'; readonly retryInMs: number }
  | { readonly state: 'claimed'; readonly token: string };

// Done-check and lock in one round trip: a receipt a handler already completed is never claimed again.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'done' end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
return 'busy:' .. redis.call('PTTL', KEYS[2])`;

// Records every handler that ran in an attempt (its done record; its lock released only if still ours)
// and, when the job finished, the job's finished marker and completion stream entry, in one round trip.
// KEYS = done1, lock1, …, doneN, lockN [, marker, stream];
// ARGV = ttl, N, token1…tokenN [, outcome, markerTtl, streamMaxLen, type, jobId].
const COMMIT = `
local n = tonumber(ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[2 * i - 1], '1', 'EX', ARGV[1])
  if redis.call('GET', KEYS[2 * i]) == ARGV[2 + i] then redis.call('DEL', KEYS[2 * i]) end
end
if #KEYS > 2 * n then
  local outcome = ARGV[n + 3]
  redis.call('SET', KEYS[2 * n + 1], outcome, 'EX', ARGV[n + 4])
  redis.call('XADD', KEYS[2 * n + 2], 'MAXLEN', '~', ARGV[n + 5], '*', 't', ARGV[n + 6], 'j', ARGV[n + 7], 'o', outcome)
end
return n`;

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
  camsCommit(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
  camsRelease(done: string, lock: string, token: string): Promise<number>;
}

/** A handler that ran to completion in this attempt, still holding its lease. */
export interface Ran {
  readonly handler: string;
  readonly dedupeKey: string;
  readonly token: string;
}

/** A job that finished, for its finished marker and completion stream entry (read by pollers). */
export interface Finished {
  readonly type: MessageType;
  readonly jobId: string;
  readonly outcome: JobOutcome;
}

export interface FinishedRecords {
  /** Keep finished markers at least as long as a poller may wait on a job. */
  readonly ttlSeconds: number;
  /** Approximate length the completion stream is trimmed to. */
  readonly streamMaxLen: number;
}

export class IdempotencyStore {
  private readonly scripts: ScriptCommands;

  constructor(
    redis: Redis,
    private readonly keys: KeySpace,
    private readonly ttlSeconds: number,
    private readonly finished: FinishedRecords = { ttlSeconds: 4200, streamMaxLen: 100_000 },
  ) {
    // EVALSHA after the first call: the scripts are sent once per connection, not per receipt.
    redis.defineCommand('camsClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('camsCommit', { lua: COMMIT });
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

  /**
   * Records the handlers that ran (done, and their leases released) and, when given, that the job finished,
   * atomically and in one round trip: a poller never sees a finished job whose handlers are not recorded.
   */
  async commit(ran: readonly Ran[], finished?: Finished): Promise<void> {
    if (ran.length === 0 && !finished) return;
    const keys: string[] = [];
    const args: (string | number)[] = [this.ttlSeconds, ran.length];
    for (const r of ran) {
      keys.push(this.keys.done(r.handler, r.dedupeKey), this.keys.lock(r.handler, r.dedupeKey));
      args.push(r.token);
    }
    if (finished) {
      keys.push(this.keys.finished(finished.type, finished.jobId), this.keys.finishedStream);
      args.push(
        finished.outcome,
        this.finished.ttlSeconds,
        this.finished.streamMaxLen,
        finished.type,
        finished.jobId,
      );
    }
    await this.scripts.camsCommit(keys.length, ...keys, ...args);
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
