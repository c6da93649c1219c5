import type { RedisClient } from '../redis/connection.js';
import { StoreError } from '../errors.js';
import { defaultDedupeKey, jobIdFor } from '../receipts/dedupe.js';
import type { ReceiptJobData } from './job.js';
import type { KeySpace } from './keys.js';
import type { JobStates } from './job-states.js';
import { jobKey, type RecentOutcomes } from './recent-outcomes.js';
import type { ReceiptQueue, ReceiptQueues } from './queues.js';
import type { ReceiptEnvelope } from '../receipts/envelope.js';
import type { ReceiptSink, StoreProbe, SubmitResult } from '../contracts/pipeline.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/async.js';
import { pushTo } from '../util/group.js';
import { isRedisFull, REDIS_FULL } from '../util/redis-full.js';

export interface BullMqSinkOptions {
  /** Give up on Redis after this long, so callers (SMQ loop, HTTP push) can keep the receipts and retry. */
  readonly storeTimeoutMs: number;
  /**
   * Outcomes the completion reader heard lately: a job's stream entry comes a moment before BullMQ moves
   * it to its completed set.
   */
  readonly recent?: Pick<RecentOutcomes, 'get'>;
}

/**
 * Adds receipts to BullMQ with a job id derived from the dedupe key, so duplicates and redeliveries
 * collapse into one job. One bulk call per message type and batch, and beside it one look at BullMQ's own
 * job states tells which receipts belong to a job that had already finished (duplicates the caller need not
 * wait for).
 */
export class BullMqReceiptSink implements ReceiptSink, StoreProbe {
  constructor(
    private readonly queues: ReceiptQueues,
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly states: JobStates,
    private readonly opts: BullMqSinkOptions,
  ) {}

  async submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    const jobs = envelopes.map(toJob);
    let finished: boolean[];
    try {
      finished = await withTimeout(this.store(jobs), this.opts.storeTimeoutMs, this.noAnswer());
    } catch (err) {
      const why = isRedisFull(err) ? REDIS_FULL : errorMessage(err);
      throw new StoreError(`could not enqueue ${envelopes.length} receipt(s): ${why}`, {
        cause: err,
      });
    }
    return jobs.map((j, i) => ({ jobId: j.jobId, finished: finished[i] === true }));
  }

  /** A small write, not a PING: a Redis that answers but refuses writes (maxmemory reached) is not back. */
  async probe(): Promise<boolean> {
    try {
      await withTimeout(
        this.redis.set(this.keys.probe, '1', 'PX', 10_000),
        this.opts.storeTimeoutMs,
        this.noAnswer(),
      );
      return true;
    } catch {
      return false;
    }
  }

  private noAnswer(): string {
    return `Redis did not answer within ${this.opts.storeTimeoutMs} ms`;
  }

  /**
   * One addBulk per (type, partition): every key of a Redis call shares a slot. A job id BullMQ already
   * holds adds nothing, so a duplicate is finished when BullMQ holds its job as completed or dead-lettered.
   * The state read goes out with the adds, not after their round trip: its order does not matter, because
   * adding never finishes a job, and a job that finishes meanwhile reaches its waiter through the
   * completion stream.
   */
  private async store(jobs: readonly Job[]): Promise<boolean[]> {
    const byQueue = new Map<ReceiptQueue, Job[]>();
    for (const job of jobs) {
      pushTo(byQueue, this.queues.get(job.data.messageType, this.keys.ofJob(job.jobId)), job);
    }
    const [, states] = await Promise.all([
      Promise.all(
        [...byQueue].map(([queue, list]) =>
          queue.addBulk(
            list.map(j => ({ name: j.data.messageType, data: j.data, opts: { jobId: j.jobId } })),
          ),
        ),
      ),
      // Once the connection is up, as addBulk waits too (it has no offline queue).
      Promise.all([...byQueue.keys()].map(q => q.waitUntilReady())).then(() =>
        this.states.of(jobs.map(j => ({ type: j.data.messageType, jobId: j.jobId }))),
      ),
    ]);
    return jobs.map((j, i) => {
      const state = states[i];
      if (state === 'completed' || state === 'dead_lettered') return true;
      return this.opts.recent?.get(jobKey(j.data.messageType, j.jobId)) !== undefined;
    });
  }
}

interface Job {
  readonly jobId: string;
  readonly data: ReceiptJobData;
}

function toJob(envelope: ReceiptEnvelope): Job {
  const dedupeKey = defaultDedupeKey(envelope.messageType, envelope.receipt);
  return {
    jobId: jobIdFor(envelope.messageType, dedupeKey),
    data: {
      messageType: envelope.messageType,
      receipt: envelope.receipt,
      source: envelope.source,
      queueName: envelope.queueName,
      dedupeKey,
      originTimeMs: envelope.originTimeMs,
      ...(envelope.redelivered ? { redelivered: true } : {}),
    },
  };
}
