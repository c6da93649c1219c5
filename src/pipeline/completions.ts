import type { RedisClient } from '../redis/connection.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { FailedJobs } from './failed-jobs.js';
import type { JobRef, KeySpace, PartitionKeys } from './keys.js';
import type { CompletionSource, JobOutcome } from '../contracts/pipeline.js';
import { sleep } from '../util/async.js';
import { parseCompletion } from './completion-entry.js';

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
  /** Factory for the blocking connection each stream reader needs. */
  readonly blockingConnection: () => RedisClient;
  /** A reader per partition's stream (a cluster: XREAD across slots is CROSSSLOT); else one XREAD for all. */
  readonly readerPerPartition?: boolean;
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
/** After a read that emptied the stream: entries gather meanwhile, so one XREAD takes many, not a few. */
const GATHER_MS = 10;

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
  private readonly readers: RedisClient[] = [];
  private readonly reading: Promise<void>;
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private readonly pendingChecks = new Map<string, JobRef>();
  private checkScheduled = false;
  private closed = false;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly opts: CompletionOptions) {
    const streams = opts.keys.partitions.map(p => p.finishedStream);
    const groups = opts.readerPerPartition ? streams.map(s => [s]) : [streams];
    let pinned = 0;
    this.ready = new Promise<void>(resolve => {
      this.markReady = () => {
        if (++pinned >= groups.length || this.closed) resolve();
      };
    });
    this.reading = Promise.all(groups.map(g => this.read(g))).then(() => undefined);
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
    for (const reader of this.readers) reader.disconnect();
    await this.reading;
  }

  /** A reader loop: never throws; on a Redis error it waits and reads on from where it was. */
  private async read(streams: readonly string[]): Promise<void> {
    const reader = this.opts.blockingConnection();
    this.readers.push(reader);
    let lastIds: string[] | undefined;
    while (!this.closed) {
      try {
        // Start after the newest entry: older ones concern waiters that do not exist yet, and the finished
        // markers answer those. Ready once the position is pinned, so no later entry can be missed.
        if (lastIds === undefined) {
          const tops = await Promise.all(streams.map(s => reader.xrevrange(s, '+', '-', 'COUNT', 1)));
          lastIds = tops.map(([top]) => top?.[0] ?? '0-0');
          this.markReady();
        }
        const reply = (await reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          ...streams,
          ...lastIds,
        )) as [string, [string, string[]][]][] | null;
        const read = this.take(reply ?? [], streams, lastIds);
        if (read > 0 && read < READ_COUNT) await sleep(GATHER_MS);
      } catch (err) {
        if (this.closed) return;
        this.opts.errors.report('completion_reader_error', err);
        await sleep(RETRY_MS);
      }
    }
  }

  /** Settles the waiters of what one XREAD returned, moving each stream's position on; answers the count. */
  private take(
    reply: [string, [string, string[]][]][],
    streams: readonly string[],
    lastIds: string[],
  ): number {
    let read = 0;
    for (const [stream, entries] of reply) {
      const at = streams.indexOf(stream);
      read += entries.length;
      for (const [id, fields] of entries) {
        lastIds[at] = id;
        const entry = parseCompletion(fields);
        if (entry) this.settle(entry.type, entry.jobId, entry.outcome);
      }
    }
    return read;
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
  private async checkMarkers(jobs: readonly JobRef[]): Promise<void> {
    if (jobs.length === 0) return;
    // One MGET per partition: an MGET across slots is CROSSSLOT on a cluster.
    await Promise.all(
      [...this.opts.keys.groupByJob(jobs)].map(async ([part, list]) => {
        let values: (string | null)[];
        try {
          values = await this.opts.redis.mget(list.map(j => part.finished(j.type, j.jobId)));
        } catch {
          return; // Redis away: the sweep tries again.
        }
        list.forEach(({ type, jobId }, i) => {
          const fin = values[i];
          if (fin === 'completed' || fin === 'dead_lettered') this.settle(type, jobId, fin);
        });
      }),
    );
  }

  private sweep(olderThanMs: number): void {
    const cutoff = Date.now() - olderThanMs;
    const stale: JobRef[] = [];
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
  private async check(jobs: readonly JobRef[]): Promise<void> {
    await Promise.all([...this.opts.keys.groupByJob(jobs)].map(([part, list]) => this.checkIn(part, list)));
  }

  private async checkIn(part: PartitionKeys, jobs: readonly JobRef[]): Promise<void> {
    const pipeline = this.opts.redis.pipeline();
    for (const { type, jobId } of jobs) {
      pipeline.get(part.finished(type, jobId));
      pipeline.zscore(part.bull(type, 'completed'), jobId);
      pipeline.zscore(part.bull(type, 'failed'), jobId);
      pipeline.exists(part.bull(type, jobId));
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
