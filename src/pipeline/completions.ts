import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { KeySpace } from './keys.js';
import { queueNameFor } from './keys.js';
import { JobLostError, type CompletionSource, type JobOutcome } from './types.js';

interface Waiter {
  readonly resolve: (outcome: JobOutcome) => void;
  readonly reject: (err: unknown) => void;
  readonly sinceMs: number;
}

export interface CompletionOptions {
  readonly keys: KeySpace;
  /** Non-blocking connection for state checks. */
  readonly redis: Redis;
  /** Factory for the blocking connections the event readers need. */
  readonly blockingConnection: () => Redis;
  readonly logger: Logger;
  /** How often waiters are re-checked against Redis, covering events missed during a reconnect. */
  readonly sweepIntervalMs?: number;
}

/**
 * One reader of BullMQ's event stream per message type, fanning completions out to waiting
 * pollers through a map, instead of a listener per job. A waiter registered after its job already
 * finished is answered by a state check batched per tick.
 */
export class BullMqCompletions implements CompletionSource {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly events: QueueEvents[] = [];
  private readonly pendingChecks = new Map<string, MessageType>();
  private checkScheduled = false;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly opts: CompletionOptions) {
    const startId = `${Date.now()}-0`;
    for (const type of MESSAGE_TYPES) {
      const events = new QueueEvents(queueNameFor(type), {
        connection: opts.blockingConnection(),
        prefix: opts.keys.prefix,
        lastEventId: startId,
      });
      events.on('completed', ({ jobId }) => this.settle(type, jobId, 'completed'));
      events.on('failed', ({ jobId }) => this.settle(type, jobId, 'dead_lettered'));
      events.on('error', err =>
        opts.logger.debug('event reader error', { event: 'events_error', error: String(err) }),
      );
      this.events.push(events);
    }
    const interval = opts.sweepIntervalMs ?? 5000;
    this.sweepTimer = setInterval(() => this.sweep(interval), interval);
    this.sweepTimer.unref();
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.events.map(e => e.waitUntilReady()));
  }

  wait(messageType: MessageType, jobId: string, signal?: AbortSignal): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
        return;
      }
      const key = waiterKey(messageType, jobId);
      const waiter: Waiter = {
        resolve: outcome => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
        reject: err => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        sinceMs: Date.now(),
      };
      const onAbort = () => {
        this.removeWaiter(key, waiter);
        reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const list = this.waiters.get(key);
      if (list) list.push(waiter);
      else this.waiters.set(key, [waiter]);
      this.scheduleCheck(messageType, jobId);
    });
  }

  get waiting(): number {
    return this.waiters.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.allSettled(this.events.map(e => e.close()));
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
    this.pendingChecks.set(waiterKey(type, jobId), type);
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      const batch = [...this.pendingChecks];
      this.pendingChecks.clear();
      void this.check(batch.map(([key, t]) => ({ type: t, jobId: key.slice(t.length + 1) })));
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

  /** One pipelined round trip: completed set, failed set, job hash, finished marker. */
  private async check(jobs: readonly { type: MessageType; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    const { keys } = this.opts;
    const pipeline = this.opts.redis.pipeline();
    for (const { type, jobId } of jobs) {
      pipeline.zscore(keys.bull(type, 'completed'), jobId);
      pipeline.zscore(keys.bull(type, 'failed'), jobId);
      pipeline.exists(keys.bull(type, jobId));
      pipeline.get(keys.finished(type, jobId));
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch {
      return; // Redis away: the sweep tries again.
    }
    if (!replies) return;
    jobs.forEach(({ type, jobId }, i) => {
      const [completed, failed, exists, fin] = replies
        .slice(i * 4, i * 4 + 4)
        .map(r => (r[0] ? undefined : r[1]));
      if (completed !== null && completed !== undefined) this.settle(type, jobId, 'completed');
      else if (failed !== null && failed !== undefined) this.settle(type, jobId, 'dead_lettered');
      else if (fin === 'completed' || fin === 'dead_lettered') this.settle(type, jobId, fin);
      else if (exists === 0) this.settle(type, jobId, 'lost');
    });
  }
}

function waiterKey(type: MessageType, jobId: string): string {
  return `${type}|${jobId}`;
}
