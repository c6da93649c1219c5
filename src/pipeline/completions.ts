import type { RedisClient } from '../redis/connection.js';
import type { MessageType } from '../receipts/types.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { FailedJobs } from './failed-jobs.js';
import type { JobStates } from './job-states.js';
import type { JobRef, KeySpace } from './keys.js';
import { jobKey as waiterKey, RecentOutcomes } from './recent-outcomes.js';
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
}

/** The waiters of one job, and when Redis is next asked about it. */
interface Waiting {
  readonly ref: JobRef;
  readonly list: Waiter[];
  checkAtMs: number;
  /** BullMQ did not hold the job at the last look: missing twice in a row means lost. */
  missing: boolean;
}

export interface CompletionOptions {
  readonly keys: KeySpace;
  /** Factory for the blocking connection each stream reader needs. */
  readonly blockingConnection: () => RedisClient;
  /** A reader per partition's stream (a cluster: XREAD across slots is CROSSSLOT); else one XREAD for all. */
  readonly readerPerPartition?: boolean;
  readonly errors: ErrorReporter;
  /** Parks the receipt of a failed job BullMQ failed on its own, before a poller may delete its message. */
  readonly failedJobs: Pick<FailedJobs, 'settle'>;
  /** The outcomes read lately, shared with the sink; one of its own when not given. */
  readonly recent?: RecentOutcomes;
  /** BullMQ's job states, for waits the stream has not answered. */
  readonly states: Pick<JobStates, 'of'>;
  /**
   * How often waiters are re-checked against Redis, covering entries missed during a reconnect. The first
   * look comes after a fifth of it, for a wait on a job that had finished before.
   */
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
 * per job). A waiter registered just after its job's entry went by is answered from the entries read
 * lately; a sweep asks BullMQ's own job state about waits the stream has not answered.
 */
export class BullMqCompletions implements CompletionSource {
  private readonly waiters = new Map<string, Waiting>();
  private readonly recent: RecentOutcomes;
  private readonly readers: RedisClient[] = [];
  private readonly reading: Promise<void>;
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private closed = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sweepIntervalMs: number;
  private readonly firstLookMs: number;

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
    this.recent = opts.recent ?? new RecentOutcomes();
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 5000;
    this.firstLookMs = Math.max(1, Math.round(this.sweepIntervalMs / 5));
    this.sweepTimer = setInterval(() => this.sweep(), this.firstLookMs);
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
      const known = this.recent.get(key);
      if (known) {
        resolve(known);
        return;
      }
      const ref = { type: messageType, jobId };
      if (!signal) {
        // The common case (pollers): no listener to remove, so no wrappers to build.
        this.addWaiter(key, ref, { resolve, reject });
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
      };
      const onAbort = () => {
        this.removeWaiter(key, waiter);
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.addWaiter(key, ref, waiter);
    });
  }

  private addWaiter(key: string, ref: JobRef, waiter: Waiter): void {
    const waiting = this.waiters.get(key);
    if (waiting) waiting.list.push(waiter);
    else
      this.waiters.set(key, {
        ref,
        list: [waiter],
        checkAtMs: Date.now() + this.firstLookMs,
        missing: false,
      });
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
        // Start after the newest entry: older ones concern jobs that finished before any wait here, and the
        // sink finds those in BullMQ's state. Ready once the position is pinned, so no later entry is missed.
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
        if (entry) this.heard(entry.type, entry.jobId, entry.outcome);
      }
    }
    return read;
  }

  private heard(type: MessageType, jobId: string, outcome: JobOutcome): void {
    this.recent.remember(waiterKey(type, jobId), outcome);
    this.settle(type, jobId, outcome);
  }

  private settle(type: MessageType, jobId: string, outcome: JobOutcome | 'lost'): void {
    const key = waiterKey(type, jobId);
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    this.waiters.delete(key);
    for (const w of waiting.list) {
      if (outcome === 'lost') w.reject(new JobLostError(jobId));
      else w.resolve(outcome);
    }
  }

  private removeWaiter(key: string, waiter: Waiter): void {
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    const at = waiting.list.indexOf(waiter);
    if (at >= 0) waiting.list.splice(at, 1);
    if (waiting.list.length === 0) this.waiters.delete(key);
  }

  /** Waits due for a look at BullMQ's state: a fifth of the sweep interval old, then every interval. */
  private sweep(): void {
    const now = Date.now();
    const due: Waiting[] = [];
    for (const waiting of this.waiters.values()) {
      if (waiting.checkAtMs > now) continue;
      waiting.checkAtMs = now + this.sweepIntervalMs;
      due.push(waiting);
    }
    if (due.length > 0) void this.check(due);
  }

  /**
   * One Lua call per partition for every due wait. A job in the failed set counts as dead-lettered only once
   * its receipt is parked (FailedJobs parks it when BullMQ failed it on its own). A job BullMQ does not hold
   * at two looks in a row is lost (Redis lost its data): its entry, if it had finished, came long before.
   */
  private async check(due: readonly Waiting[]): Promise<void> {
    let states;
    try {
      states = await this.opts.states.of(due.map(w => w.ref));
    } catch {
      return; // Redis away: the next sweep looks again.
    }
    due.forEach((waiting, i) => {
      const { type, jobId } = waiting.ref;
      const state = states[i];
      if (state === 'completed' || state === 'dead_lettered') this.settle(type, jobId, state);
      else if (state === 'failed') void this.settleFailed(type, jobId);
      else if (state === 'missing' && waiting.missing) this.settle(type, jobId, 'lost');
      waiting.missing = state === 'missing';
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
