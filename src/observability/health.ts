import type { ConsumerHealth, TokenStatus } from '../contracts/telemetry.js';
import { isRedisFull, REDIS_FULL } from '../util/redis-full.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/async.js';
/** One checked part of the daemon. `reason` says why a failing part fails; `detail` informs only. */
export interface PartStatus {
  readonly ok: boolean;
  readonly reason?: string;
  readonly detail?: string;
}

export interface Readiness {
  readonly ok: boolean;
  readonly parts: Readonly<Record<string, PartStatus>>;
}

/** One consumer loop as readiness sees it. */
export interface ConsumerProbe {
  readonly waitSeconds: number;
  /** A loop that has all its `maxInFlight` credits out does not poll; that is back-pressure, not a hang. */
  readonly maxInFlight: number;
  /** When the loop was started: a new loop gets the same grace as one that just polled. */
  readonly startedAtMs: number;
  health(): ConsumerHealth;
}

/** One BullMQ worker as readiness sees it (the shape of `WatchedWorker.state()`). */
export interface WorkerState {
  readonly messageType: string;
  readonly slots: number;
  /** Jobs running now: a worker with every slot busy does not fetch, and is not stale. */
  readonly active: number;
  readonly running: boolean;
  readonly startedAtMs: number;
  /** When Redis last answered a fetch: a job handed over, or the queue found empty. */
  readonly lastFetchAtMs?: number;
}

export interface HealthCheckOptions {
  /** Resolves when Redis answered (e.g. `() => redis.ping()`). */
  readonly pingRedis: () => Promise<unknown>;
  /** @defaultValue 1000 */
  readonly redisTimeoutMs?: number;
  /** The consumer loops running now; read at every check, so a reload is seen at once. */
  readonly consumers?: () => readonly ConsumerProbe[];
  /** Tokens of `auth: cams` consumers; static credentials do not expire and report nothing. */
  readonly tokens?: () => readonly TokenStatus[];
  /** Added to `2 × waitSeconds` before a loop's last poll counts as stale. @defaultValue 5000 */
  readonly pollMarginMs?: number;
  /** The BullMQ workers of this process; none in a poller. */
  readonly workers?: () => readonly WorkerState[];
  /** A worker that has neither fetched a job nor found its queue empty for this long is stale. @defaultValue 30000 */
  readonly workerStaleAfterMs?: number;
  /** True once shutdown began: the daemon is draining and takes no new work. */
  readonly shuttingDown?: () => boolean;
  readonly now?: () => number;
}

/** Readiness (`/readyz`): Redis reachable, every consumer loop polling, every token valid. */
export interface HealthChecker {
  check(): Promise<Readiness>;
}

export function createHealthChecker(options: HealthCheckOptions): HealthChecker {
  const now = options.now ?? Date.now;
  const marginMs = options.pollMarginMs ?? 5000;
  return {
    async check() {
      const parts: Record<string, PartStatus> = {};
      if (options.shuttingDown?.()) parts['process'] = { ok: false, reason: 'shutting down: draining' };
      parts['redis'] = await checkRedis(options.pingRedis, options.redisTimeoutMs ?? 1000);
      const at = now();
      for (const probe of options.consumers?.() ?? []) {
        const state = probe.health();
        parts[`consumer:${state.queueName}`] = checkConsumer(probe, state, at, marginMs);
      }
      for (const token of options.tokens?.() ?? []) {
        parts[`token:${token.queueName}`] = checkToken(token, at);
      }
      const workers = options.workers?.() ?? [];
      for (const type of new Set(workers.map(w => w.messageType))) {
        const ofType = workers.filter(w => w.messageType === type);
        parts[`workers:${type}`] = checkWorkers(ofType, at, options.workerStaleAfterMs ?? 30_000);
      }
      return { ok: Object.values(parts).every(p => p.ok), parts };
    },
  };
}

export async function checkRedis(ping: () => Promise<unknown>, timeoutMs: number): Promise<PartStatus> {
  try {
    await withTimeout(Promise.resolve().then(ping), timeoutMs, `no answer to PING within ${timeoutMs} ms`);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: isRedisFull(err) ? REDIS_FULL : `Redis unreachable: ${errorMessage(err)}` };
  }
}

export function checkConsumer(
  probe: ConsumerProbe,
  state: ConsumerHealth,
  nowMs: number,
  marginMs: number,
): PartStatus {
  if (!state.running) return { ok: false, reason: 'consumer loop is not running' };
  if (state.queueMissing) {
    return {
      ok: false,
      reason: `queue ${state.queueName} does not exist (QueueNotExist): check the queue name, the endpoint region and the account id`,
    };
  }
  const limitMs = 2 * probe.waitSeconds * 1000 + marginMs;
  const sinceMs = Math.max(state.lastPollOkAtMs ?? 0, probe.startedAtMs);
  const ageMs = nowMs - sinceMs;
  if (ageMs <= limitMs) {
    return state.lastPollOkAtMs === undefined
      ? { ok: true, detail: 'starting: no poll completed yet' }
      : { ok: true };
  }
  if (state.inFlight >= probe.maxInFlight) {
    return { ok: true, detail: `saturated: ${state.inFlight} messages in flight, waiting for room to poll` };
  }
  const last =
    state.lastPollOkAtMs === undefined
      ? 'no poll has completed'
      : `last poll completed ${Math.round(ageMs / 1000)} s ago`;
  const failing = state.lastErrorClass
    ? `; ${state.consecutiveFailures} failure(s) in a row, last: ${state.lastErrorClass}`
    : '';
  return { ok: false, reason: `${last} (limit ${Math.round(limitMs / 1000)} s)${failing}` };
}

export function checkToken(token: TokenStatus, nowMs: number): PartStatus {
  const failure = token.lastErrorClass ? ` (last refresh failed: ${token.lastErrorClass})` : '';
  if (token.expireAtMs === undefined) {
    return token.lastErrorClass
      ? { ok: false, reason: `no token: QueryTokenForMnsQueue failed${failure}` }
      : { ok: true, detail: 'fetching the first token' };
  }
  if (nowMs >= token.expireAtMs) {
    return { ok: false, reason: `token expired at ${new Date(token.expireAtMs).toISOString()}${failure}` };
  }
  return failure ? { ok: true, detail: `token valid, refresh failing${failure}` } : { ok: true };
}

/**
 * The workers of one message type: each must be running and have heard from Redis about work within
 * `limitMs`, unless every slot is busy (a saturated worker fetches nothing until a job finishes).
 */
export function checkWorkers(workers: readonly WorkerState[], nowMs: number, limitMs: number): PartStatus {
  const problems = workers.flatMap((w, i) => {
    const which = `worker ${i + 1} of ${workers.length}`;
    if (!w.running) return [`${which} is not running`];
    const ageMs = nowMs - Math.max(w.lastFetchAtMs ?? 0, w.startedAtMs);
    if (ageMs <= limitMs || w.active >= w.slots) return [];
    return [
      `${which} has neither fetched a job nor found its queue empty for ${Math.round(ageMs / 1000)} s (limit ${Math.round(limitMs / 1000)} s): its Redis connection may be dead`,
    ];
  });
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  const saturated = workers.filter(w => w.active >= w.slots).length;
  return saturated > 0
    ? { ok: true, detail: `${saturated} of ${workers.length} workers saturated` }
    : { ok: true };
}
