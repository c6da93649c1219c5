import { createHash, randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import type { MessageType } from '../receipts/types.js';
import type { KeySpace } from './keys.js';
import { TurnBatcher } from '../util/turn-batcher.js';
import type { JobOutcome } from '../contracts/pipeline.js';
import { CLAIM, COMMIT, RELEASE } from './record-scripts.js';

export type ClaimResult =
  | { readonly state: 'done' }
  | { readonly state: 'busy'; readonly retryInMs: number }
  | { readonly state: 'claimed'; readonly token: string };

interface ScriptCommands {
  camsClaim(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<string[]>;
  camsCommit(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
  camsRelease(lease: string, token: string): Promise<number>;
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
 * How long after the first start of this layout the previous layout's records are still looked for, beyond
 * the window: the time a rolling upgrade may take while old processes still write them.
 */
export const LEGACY_ROLLOUT_SECONDS = 24 * 3600;

/** A record's digest: 12 bytes of SHA-256 (a false "done" needs a 96-bit collision within one handler). */
export function recordDigest(dedupeKey: string): Buffer {
  return createHash('sha256').update(dedupeKey).digest().subarray(0, 12);
}

/** The window is covered by 7 buckets (plus the current one): a record lives at most a seventh longer. */
export function bucketSecondsFor(windowSeconds: number): number {
  return Math.max(1, Math.ceil(windowSeconds / 7));
}

/**
 * Per-(handler, dedupe key) completion records kept for the idempotency window, plus a lease so two
 * workers never run the same handler for the same receipt at once. Records outlive BullMQ jobs, so a
 * redelivery days later is still recognised. About 20 bytes of Redis memory a record: small hashes per
 * (handler, day, shard), see record-scripts.ts.
 */
export class IdempotencyStore {
  private readonly scripts: ScriptCommands;
  private readonly bucketSeconds: number;
  private legacyUntil: Promise<number> | undefined;
  // Jobs start and finish in bursts (one socket read from Redis resolves several): their claims, and
  // their commits, share one script call.
  private readonly claims = new TurnBatcher<Claim, string>(batch => this.sendClaims(batch));
  private readonly commits = new TurnBatcher<Commit, void>(batch => this.sendCommits(batch));

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly ttlSeconds: number,
    private readonly finished: FinishedRecords = { ttlSeconds: 4200, streamMaxLen: 100_000 },
  ) {
    // EVALSHA after the first call: the scripts are sent once per connection, not per receipt.
    redis.defineCommand('camsClaim', { lua: CLAIM });
    redis.defineCommand('camsCommit', { lua: COMMIT });
    redis.defineCommand('camsRelease', { numberOfKeys: 1, lua: RELEASE });
    this.bucketSeconds = bucketSecondsFor(ttlSeconds);
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
    const legacy = Date.now() < (await this.legacyUntilMs()) ? 1 : 0;
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [this.bucketSeconds, this.ttlSeconds, legacy];
    for (const c of claims) {
      keys.push(
        this.keys.records(c.handler),
        this.keys.lock(c.handler, c.dedupeKey),
        this.keys.done(c.handler, c.dedupeKey),
      );
      args.push(recordDigest(c.dedupeKey), c.leaseMs, c.token);
    }
    const states = await this.scripts.camsClaim(keys.length, ...keys, ...args);
    if (states.length !== claims.length)
      throw new Error(`claim script answered ${states.length} of ${claims.length}`);
    return states;
  }

  private async sendCommits(commits: readonly Commit[]): Promise<void[]> {
    // During the roll-out (the first LEGACY_ROLLOUT_SECONDS), processes of the previous layout may still run:
    // they read only its keys, so those are written too.
    const dual = Date.now() < (await this.legacyUntilMs()) - this.ttlSeconds * 1000 ? 1 : 0;
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [
      this.bucketSeconds,
      this.ttlSeconds,
      this.finished.ttlSeconds,
      this.finished.streamMaxLen,
      dual,
    ];
    for (const { ran, finished } of commits) {
      args.push(ran.length, finished ? 1 : 0);
      for (const r of ran) {
        keys.push(
          this.keys.records(r.handler),
          this.keys.lock(r.handler, r.dedupeKey),
          this.keys.done(r.handler, r.dedupeKey),
        );
        args.push(recordDigest(r.dedupeKey), r.token);
      }
      if (finished) {
        keys.push(this.keys.finished(finished.type, finished.jobId), this.keys.finishedStream);
        args.push(finished.outcome, finished.type, finished.jobId);
      }
    }
    await this.scripts.camsCommit(keys.length, ...keys, ...args);
    return commits.map(() => undefined);
  }

  /**
   * Until when records of the previous layout (one key per record) may exist: decided once per Redis, by the
   * first process of this layout that starts. When the previous layout ran here (its completion stream
   * exists), the window plus LEGACY_ROLLOUT_SECONDS from now; on a fresh Redis, never.
   */
  private legacyUntilMs(): Promise<number> {
    this.legacyUntil ??= this.readLegacyUntil().catch((err: unknown) => {
      this.legacyUntil = undefined;
      throw err;
    });
    return this.legacyUntil;
  }

  private async readLegacyUntil(): Promise<number> {
    const key = this.keys.legacyUntil;
    const found = await this.redis.get(key);
    if (found !== null) return Number(found);
    const upgraded = (await this.redis.exists(this.keys.finishedStream)) === 1;
    const until = upgraded ? Date.now() + (this.ttlSeconds + LEGACY_ROLLOUT_SECONDS) * 1000 : 0;
    await this.redis.set(key, String(until), 'NX');
    return Number((await this.redis.get(key)) ?? until);
  }

  async release(handler: string, dedupeKey: string, token: string): Promise<void> {
    await this.scripts.camsRelease(this.keys.lock(handler, dedupeKey), token);
  }
}
