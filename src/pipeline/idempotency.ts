import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import type { MessageType } from '../receipts/types.js';
import type { KeySpace } from './keys.js';
import { TurnBatcher } from '../util/turn-batcher.js';
import type { JobOutcome } from '../contracts/pipeline.js';

export type ClaimResult =
  | { readonly state: 'done' }
  | { readonly state: 'busy'; readonly retryInMs: number }
  | { readonly state: 'claimed'; readonly token: string };

// Done-check and lock for several (handler, receipt) pairs in one round trip: a receipt a handler already
// completed is never claimed again. KEYS = done1, lock1, …; ARGV = leaseMs1, token1, …
const CLAIM = `
local out = {}
for i = 1, #KEYS / 2 do
  local done, lock = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('EXISTS', done) == 1 then
    out[i] = 'done'
  elseif redis.call('SET', lock, ARGV[2 * i], 'NX', 'PX', ARGV[2 * i - 1]) then
    out[i] = 'claimed'
  else
    out[i] = 'busy:' .. redis.call('PTTL', lock)
  end
end
return out`;

// Commits several attempts in one round trip. Each records every handler that ran (its done record; its
// lock released only if still ours) and, when its job finished, the job's finished marker and completion
// stream entry. ARGV = ttl, markerTtl, streamMaxLen, then per attempt: n, finished (0/1), token1…tokenN
// [, outcome, type, jobId]; KEYS per attempt: done1, lock1, …, doneN, lockN [, marker, stream].
const COMMIT = `
local ttl, markerTtl, maxLen = ARGV[1], ARGV[2], ARGV[3]
local a, k = 4, 1
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  local finished = ARGV[a + 1] == '1'
  a = a + 2
  for i = 1, n do
    redis.call('SET', KEYS[k], '1', 'EX', ttl)
    if redis.call('GET', KEYS[k + 1]) == ARGV[a] then redis.call('DEL', KEYS[k + 1]) end
    k = k + 2
    a = a + 1
  end
  if finished then
    redis.call('SET', KEYS[k], ARGV[a], 'EX', markerTtl)
    redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', maxLen, '*', 't', ARGV[a + 1], 'j', ARGV[a + 2], 'o', ARGV[a])
    k = k + 2
    a = a + 3
  end
end
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0`;

interface ScriptCommands {
  camsClaim(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]>;
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

interface Claim {
  readonly handler: string;
  readonly dedupeKey: string;
  readonly leaseMs: number;
  readonly token: string;
}

interface Commit {
  readonly ran: readonly Ran[];
  readonly finished?: Finished;
}

/**
 * Per-(handler, dedupe key) completion records with a TTL, plus a lease so two workers never run
 * the same handler for the same receipt at once. Records outlive BullMQ jobs, so a redelivery days
 * later is still recognised.
 */
export class IdempotencyStore {
  private readonly scripts: ScriptCommands;
  // Jobs start and finish in bursts (one socket read from Redis resolves several): their claims, and
  // their commits, share one script call.
  private readonly claims = new TurnBatcher<Claim, string>(batch => this.sendClaims(batch));
  private readonly commits = new TurnBatcher<Commit, void>(batch => this.sendCommits(batch));

  constructor(
    redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly ttlSeconds: number,
    private readonly finished: FinishedRecords = { ttlSeconds: 4200, streamMaxLen: 100_000 },
  ) {
    // EVALSHA after the first call: the scripts are sent once per connection, not per receipt.
    redis.defineCommand('camsClaim', { lua: CLAIM });
    redis.defineCommand('camsCommit', { lua: COMMIT });
    redis.defineCommand('camsRelease', { numberOfKeys: 2, lua: RELEASE });
    this.scripts = redis as unknown as ScriptCommands;
  }

  async claim(handler: string, dedupeKey: string, leaseMs: number): Promise<ClaimResult> {
    const token = randomUUID();
    const state = await this.claims.add({ handler, dedupeKey, leaseMs, token });
    if (state === 'claimed') return { state, token };
    if (state === 'done') return { state };
    return { state: 'busy', retryInMs: Math.max(100, Number(state.slice('busy:'.length)) || leaseMs) };
  }

  /**
   * Records the handlers that ran (done, and their leases released) and, when given, that the job finished,
   * atomically: a poller never sees a finished job whose handlers are not recorded.
   */
  async commit(ran: readonly Ran[], finished?: Finished): Promise<void> {
    if (ran.length === 0 && !finished) return;
    await this.commits.add({ ran, finished });
  }

  private async sendClaims(claims: readonly Claim[]): Promise<string[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const c of claims) {
      keys.push(...this.recordKeys(c.handler, c.dedupeKey));
      args.push(c.leaseMs, c.token);
    }
    const states = await this.scripts.camsClaim(keys.length, ...keys, ...args);
    if (states.length !== claims.length)
      throw new Error(`claim script answered ${states.length} of ${claims.length}`);
    return states;
  }

  private async sendCommits(commits: readonly Commit[]): Promise<void[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.ttlSeconds, this.finished.ttlSeconds, this.finished.streamMaxLen];
    for (const { ran, finished } of commits) {
      args.push(ran.length, finished ? 1 : 0);
      for (const r of ran) {
        keys.push(...this.recordKeys(r.handler, r.dedupeKey));
        args.push(r.token);
      }
      if (finished) {
        keys.push(this.keys.finished(finished.type, finished.jobId), this.keys.finishedStream);
        args.push(finished.outcome, finished.type, finished.jobId);
      }
    }
    await this.scripts.camsCommit(keys.length, ...keys, ...args);
    return commits.map(() => undefined);
  }

  async release(handler: string, dedupeKey: string, token: string): Promise<void> {
    await this.scripts.camsRelease(...this.recordKeys(handler, dedupeKey), token);
  }

  /** The done record and the lease of one handler for one receipt, in the order the scripts take them. */
  private recordKeys(handler: string, dedupeKey: string): [done: string, lock: string] {
    return [this.keys.done(handler, dedupeKey), this.keys.lock(handler, dedupeKey)];
  }
}
