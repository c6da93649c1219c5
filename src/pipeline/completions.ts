import type { RedisClient } from '../redis/connection.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { FailedJobs } from './failed-jobs.js';
import type { KeySpace } from './keys.js';
import type { CompletionSource, JobOutcome } from '../contracts/pipeline.js';
import { sleep } from '../util/async.js';

/** A job disappeared before it finished, e.g. Redis restarted without persistence. */
export class JobLostError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} vanished before it finished`);
    this.name = 'JobLostError';
  }
}

interface Waiter {
  readonly resolve: (outcome: JobOutcome) => void;
  readonly reject: (err: unknown) => void;
  readonly sinceMs: number;
}

export interface CompletionOptions {
  readonly keys: KeySpace;
  /** Non-blocking connection for state checks. */
  readonly redis: RedisClient;
  /** Factory for the blocking connection the stream reader needs. */
  readonly blockingConnection: () => RedisClient;
  readonly errors: ErrorReporter;
  /** Parks the receipt of a failed job BullMQ failed on its own, before a poller may delete its message. */
  readonly failedJobs: Pick<FailedJobs, 'settle'>;
  /** How often waiters are re-checked against Redis, covering entries missed during a reconnect. */
  readonly sweepIntervalMs?: number;
}

/** Entries read per XREAD; the reader loops at once while there are more. */
const READ_COUNT = 1000;
/** How long one XREAD blocks when nothing finishes (close() cuts it short): fewer wake-ups when idle. */
const READ_BLOCK_MS = 10_000;
const RETRY_MS = 1000;

/**
 * Tells pollers when jobs finished, from the completion stream the workers append to (one short entry
 * per finished job: type, job id, outcome; see WorkerPool), so it works whether the worker is in this
 * process or on another host. One reader fans entries out to waiting pollers through a map, instead of
 * a listener per job, and it reads only completions, not BullMQ's whole event stream (several events
 * per job). A waiter registered after its job already finished is answered from the finished markers,
 * read with one MGET per tick; a periodic sweep re-checks old waiters against BullMQ's own state.
 */
export class BullMqCompletions implements CompletionSource {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly reader: RedisClient;
  private readonly reading: Promise<void>;
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private readonly pendingChecks = new Map<string, { type: MessageType; jobId: string }>();
  private checkScheduled = false;
  private closed = false;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly opts: CompletionOptions) {
    this.reader = opts.blockingConnection();
    this.ready = new Promise<void>(resolve => (this.markReady = resolve));
    this.reading = this.read();
    const interval = opts.sweepIntervalMs ?? 5000;
    this.sweepTimer = setInterval(() => this.sweep(interval), interval);
    this.sweepTimer.unref();
  }

  async waitUntilReady(): Promise<void> {
    await this.ready;
  }

  wait(messageType: MessageType, jobId: string, signal?: AbortSignal): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
        return;
      }
      const key = waiterKey(messageType, jobId);
      if (!signal) {
        // The common case (pollers): no listener to remove, so no wrappers to build.
        this.addWaiter(key, { resolve, reject, sinceMs: Date.now() });
        this.scheduleCheck(messageType, jobId);
        return;
      }
      const waiter: Waiter = {
        resolve: outcome => {
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
        reject: err => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
        sinceMs: Date.now(),
      };
      const onAbort = () => {
        this.removeWaiter(key, waiter);
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.addWaiter(key, waiter);
      this.scheduleCheck(messageType, jobId);
    });
  }

  private addWaiter(key: string, waiter: Waiter): void {
    const list = this.waiters.get(key);
    if (list) list.push(waiter);
    else this.waiters.set(key, [waiter]);
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.closed = true;
    this.markReady();
    this.reader.disconnect();
    await this.reading;
  }

  /** The reader loop: never throws; on a Redis error it waits and reads on from where it was. */
  private async read(): Promise<void> {
    const stream = this.opts.keys.finishedStream;
    let lastId: string | undefined;
    while (!this.closed) {
      try {
        // Start after the newest entry: older ones concern waiters that do not exist yet, and the finished
        // markers answer those. Ready once the position is pinned, so no later entry can be missed.
        if (lastId === undefined) {
          const [top] = await this.reader.xrevrange(stream, '+', '-', 'COUNT', 1);
          lastId = top?.[0] ?? '0-0';
          this.markReady();
        }
        const reply = (await this.reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          stream,
          lastId,
        )) as [string, [string, string[]][]][] | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.onEntry(fields);
          }
        }
      } catch (err) {
        if (this.closed) return;
        this.opts.errors.report('completion_reader_error', err);
        await sleep(RETRY_MS);
      }
    }
  }

  /** Fields as the workers write them: t <type> j <jobId> o <outcome>. */
  private onEntry(fields: readonly string[]): void {
    let type: string | undefined;
    let jobId: string | undefined;
    let outcome: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1];
      if (fields[i] === 't') type = value;
      else if (fields[i] === 'j') jobId = value;
      else if (fields[i] === 'o') outcome = value;
    }
    if (type === undefined || jobId === undefined) return;
    if (outcome !== 'completed' && outcome !== 'dead_lettered') return;
    this.settle(type as MessageType, jobId, outcome);
  }

  private settle(type: MessageType, jobId: string, outcome: JobOutcome | 'lost'): void {
    const key = waiterKey(type, jobId);
    const list = this.waiters.get(key);
    if (!list) return;
    this.waiters.delete(key);
    for (const w of list) {
      if (outcome === 'lost') w.reject(new JobLostError(jobId));
      else w.resolve(outcome);
    }
  }

  private removeWaiter(key: string, waiter: Waiter): void {
    const list = this.waiters.get(key);
    if (!list) return;
    const rest = list.filter(w => w !== waiter);
    if (rest.length > 0) this.waiters.set(key, rest);
    else this.waiters.delete(key);
  }

  private scheduleCheck(type: MessageType, jobId: string): void {
    this.pendingChecks.set(waiterKey(type, jobId), { type, jobId });
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      const batch = [...this.pendingChecks.values()];
      this.pendingChecks.clear();
      void this.checkMarkers(batch);
    });
  }

  /**
   * The job may have finished before its waiter registered (a duplicate of a receipt already processed):
   * its finished marker says so. One MGET for every waiter registered in this tick. A job that is not
   * finished yet will append its entry later, when the waiter is already there to see it.
   */
  private async checkMarkers(jobs: readonly { type: MessageType; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    let values: (string | null)[];
    try {
      values = await this.opts.redis.mget(jobs.map(j => this.opts.keys.finished(j.type, j.jobId)));
    } catch {
      return; // Redis away: the sweep tries again.
    }
    jobs.forEach(({ type, jobId }, i) => {
      const fin = values[i];
      if (fin === 'completed' || fin === 'dead_lettered') this.settle(type, jobId, fin);
    });
  }

  private sweep(olderThanMs: number): void {
    const cutoff = Date.now() - olderThanMs;
    const stale: { type: MessageType; jobId: string }[] = [];
    for (const [key, list] of this.waiters) {
      if ((list[0]?.sinceMs ?? Infinity) > cutoff) continue;
      const type = MESSAGE_TYPES.find(t => key.startsWith(t + '|'));
      if (type) stale.push({ type, jobId: key.slice(type.length + 1) });
    }
    if (stale.length > 0) void this.check(stale);
  }

  /**
   * For old waiters, one pipelined round trip: finished marker, completed set, failed set, job hash. The
   * marker is the processor's own word and comes first; a job in the failed set counts as dead-lettered only
   * once its receipt is parked (FailedJobs parks it when BullMQ failed it on its own).
   */
  private async check(jobs: readonly { type: MessageType; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    const { keys } = this.opts;
    const pipeline = this.opts.redis.pipeline();
    for (const { type, jobId } of jobs) {
      pipeline.get(keys.finished(type, jobId));
      pipeline.zscore(keys.bull(type, 'completed'), jobId);
      pipeline.zscore(keys.bull(type, 'failed'), jobId);
      pipeline.exists(keys.bull(type, jobId));
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch {
      return; // Redis away: the sweep tries again.
    }
    if (!replies) return;
    jobs.forEach(({ type, jobId }, i) => {
      const answers = replies.slice(i * 4, i * 4 + 4);
      if (answers.some(([err]) => err)) return; // unknown: the next sweep looks again
      const [fin, completed, failed, exists] = answers.map(r => r[1]);
      if (fin === 'completed' || fin === 'dead_lettered') this.settle(type, jobId, fin);
      else if (completed !== null) this.settle(type, jobId, 'completed');
      else if (failed !== null) void this.settleFailed(type, jobId);
      else if (exists === 0) this.settle(type, jobId, 'lost');
    });
  }

  private async settleFailed(type: MessageType, jobId: string): Promise<void> {
    try {
      const outcome = await this.opts.failedJobs.settle(type, jobId);
      if (outcome) this.settle(type, jobId, outcome);
    } catch (err) {
      this.opts.errors.report('failed_job_check_failed', err, { messageType: type });
    }
  }
}

function waiterKey(type: MessageType, jobId: string): string {
  return `${type}|${jobId}`;
}
