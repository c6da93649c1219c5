import { createHash, randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import type { MessageType } from '../receipts/types.js';
import { PartitionKeys, type KeySpace } from './keys.js';
import { pushTo } from '../util/group.js';
import { TurnBatcher } from '../util/turn-batcher.js';
import type { JobOutcome } from '../contracts/pipeline.js';
import { CLAIM, COMMIT, RECORDED, RELEASE } from './record-scripts.js';

export type ClaimResult =
  | { readonly state: 'done' }
  | { readonly state: 'busy'; readonly retryInMs: number }
  | { readonly state: 'claimed'; readonly token: string };

interface ScriptCommands {
  camsClaim(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<string[]>;
  camsCommit(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
  camsRelease(lease: string, token: string): Promise<number>;
  camsRecorded(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number[]>;
}

/** A handler that ran to completion in this attempt, still holding its lease. */
export interface Ran {
  readonly handler: string;
  readonly dedupeKey: string;
  readonly token: string;
}

/** A job that finished, for its completion stream entry (read by pollers). */
export interface Finished {
  readonly type: MessageType;
  readonly jobId: string;
  readonly outcome: JobOutcome;
}

export interface FinishedRecords {
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
    private readonly finished: FinishedRecords = { streamMaxLen: 100_000 },
  ) {
    // EVALSHA after the first call: the scripts are sent once per connection, not per receipt.
    redis.defineCommand('camsClaim', { lua: CLAIM });
    redis.defineCommand('camsCommit', { lua: COMMIT });
    redis.defineCommand('camsRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('camsRecorded', { lua: RECORDED });
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

  /**
   * One script call per partition the claims' records are in (a call touches one slot). While partitions
   * change, records of the previous layout are looked up first, read-only, on their own slots.
   */
  private async sendClaims(claims: readonly Claim[]): Promise<string[]> {
    const legacy = Date.now() < (await this.legacyUntilMs());
    const before = await this.previouslyDone(claims, legacy);
    const states: string[] = claims.map(() => 'done');
    const byPart = new Map<PartitionKeys, number[]>();
    claims.forEach((c, i) => {
      if (!before[i]) pushTo(byPart, this.keys.ofRecord(c.dedupeKey), i);
    });
    await Promise.all(
      [...byPart].map(async ([part, indexes]) => {
        const found = await this.claimIn(
          part,
          indexes.map(i => claims[i] as Claim),
          legacy,
        );
        indexes.forEach((i, k) => (states[i] = found[k] as string));
      }),
    );
    return states;
  }

  private async claimIn(part: PartitionKeys, claims: readonly Claim[], legacy: boolean): Promise<string[]> {
    const withLegacy = this.legacyIn(part, legacy);
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [this.bucketSeconds, this.ttlSeconds, withLegacy];
    for (const c of claims) {
      keys.push(part.records(c.handler), part.lock(c.handler, c.dedupeKey));
      if (withLegacy) keys.push(part.done(c.handler, c.dedupeKey));
      args.push(recordDigest(c.dedupeKey), c.leaseMs, c.token);
    }
    const states = await this.scripts.camsClaim(keys.length, ...keys, ...args);
    if (states.length !== claims.length)
      throw new Error(`claim script answered ${states.length} of ${claims.length}`);
    return states;
  }

  /** Which claims the previous partition layout recorded as done (none when no change is under way). */
  private async previouslyDone(claims: readonly Claim[], legacy: boolean): Promise<boolean[]> {
    const done = claims.map(() => false);
    const byPart = new Map<PartitionKeys, number[]>();
    claims.forEach((c, i) => {
      const old = this.keys.previousOfRecord(c.dedupeKey);
      if (old && old.prefix !== this.keys.ofRecord(c.dedupeKey).prefix) pushTo(byPart, old, i);
    });
    await Promise.all(
      [...byPart].map(async ([part, indexes]) => {
        const withLegacy = this.legacyIn(part, legacy);
        const keys: string[] = [];
        const args: (string | number | Buffer)[] = [this.bucketSeconds, this.ttlSeconds, withLegacy];
        for (const c of indexes.map(i => claims[i] as Claim)) {
          keys.push(part.records(c.handler));
          if (withLegacy) keys.push(part.done(c.handler, c.dedupeKey));
          args.push(recordDigest(c.dedupeKey));
        }
        const found = await this.scripts.camsRecorded(keys.length, ...keys, ...args);
        indexes.forEach((i, k) => (done[i] = found[k] === 1));
      }),
    );
    return done;
  }

  /** The previous records layout (one key per record) exists only under the prefix itself. */
  private legacyIn(part: PartitionKeys, legacy: boolean): number {
    return legacy && part.prefix === this.keys.prefix ? 1 : 0;
  }

  /**
   * One script call per partition. An attempt whose records and completion entry share a partition (the
   * default dedupe key) is one call; otherwise its records are written first and its entry after, so a
   * poller never sees a job finished before its handlers are recorded.
   */
  private async sendCommits(commits: readonly Commit[]): Promise<void[]> {
    // During the roll-out (the first LEGACY_ROLLOUT_SECONDS), processes of the previous layout may still run:
    // they read only its keys, so those are written too.
    const dual = Date.now() < (await this.legacyUntilMs()) - this.ttlSeconds * 1000;
    const first = new Map<PartitionKeys, Commit[]>();
    const then = new Map<PartitionKeys, Commit[]>();
    for (const commit of commits) this.route(commit, first, then);
    for (const phase of [first, then]) {
      await Promise.all(
        [...phase].map(([part, list]) => this.commitIn(part, list, this.legacyIn(part, dual))),
      );
    }
    return commits.map(() => undefined);
  }

  private route(
    commit: Commit,
    first: Map<PartitionKeys, Commit[]>,
    then: Map<PartitionKeys, Commit[]>,
  ): void {
    const { ran, finished } = commit;
    const home = finished ? this.keys.ofJob(finished.jobId) : this.keys.ofRecord(ran[0]?.dedupeKey ?? '');
    const byPart = new Map<PartitionKeys, Ran[]>();
    for (const r of ran) pushTo(byPart, this.keys.ofRecord(r.dedupeKey), r);
    if (byPart.size === 0 || (byPart.size === 1 && byPart.has(home))) {
      pushTo(first, home, commit);
      return;
    }
    for (const [part, list] of byPart) pushTo(first, part, { ran: list });
    if (finished) pushTo(then, home, { ran: [], finished });
  }

  private async commitIn(part: PartitionKeys, commits: readonly Commit[], dual: number): Promise<void> {
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [
      this.bucketSeconds,
      this.ttlSeconds,
      this.finished.streamMaxLen,
      dual,
    ];
    for (const { ran, finished } of commits) {
      args.push(ran.length, finished ? 1 : 0);
      for (const r of ran) {
        keys.push(part.records(r.handler), part.lock(r.handler, r.dedupeKey));
        if (dual) keys.push(part.done(r.handler, r.dedupeKey));
        args.push(recordDigest(r.dedupeKey), r.token);
      }
      if (finished) {
        keys.push(part.finishedStream);
        args.push(finished.outcome, finished.type, finished.jobId);
      }
    }
    await this.scripts.camsCommit(keys.length, ...keys, ...args);
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
    // The stream of the unpartitioned layout: the previous records layout ran only there.
    const upgraded = (await this.redis.exists(new PartitionKeys(this.keys.prefix, 0).finishedStream)) === 1;
    const until = upgraded ? Date.now() + (this.ttlSeconds + LEGACY_ROLLOUT_SECONDS) * 1000 : 0;
    await this.redis.set(key, String(until), 'NX');
    return Number((await this.redis.get(key)) ?? until);
  }

  async release(handler: string, dedupeKey: string, token: string): Promise<void> {
    await this.scripts.camsRelease(this.keys.ofRecord(dedupeKey).lock(handler, dedupeKey), token);
  }
}
