import type { RedisClient } from '../redis/connection.js';
import { StoreError } from '../errors.js';
import { defaultDedupeKey, jobIdFor } from '../receipts/dedupe.js';
import type { MessageType } from '../receipts/types.js';
import type { ReceiptJobData } from './job.js';
import type { KeySpace } from './keys.js';
import type { ReceiptQueues } from './queues.js';
import type { ReceiptEnvelope } from '../receipts/envelope.js';
import type { ReceiptSink, StoreProbe, SubmitResult } from '../contracts/pipeline.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/async.js';
import { isRedisFull, REDIS_FULL } from '../util/redis-full.js';

export interface BullMqSinkOptions {
  /** Give up on Redis after this long, so callers (SMQ loop, HTTP push) can keep the receipts and retry. */
  readonly storeTimeoutMs: number;
}

/**
 * Adds receipts to BullMQ with a job id derived from the dedupe key, so duplicates and redeliveries
 * collapse into one job. One bulk call per message type and batch, then one MGET of the finished markers
 * tells which receipts belong to a job that had already finished (duplicates the caller need not wait for).
 */
export class BullMqReceiptSink implements ReceiptSink, StoreProbe {
  constructor(
    private readonly queues: ReceiptQueues,
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: BullMqSinkOptions,
  ) {}

  async submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    const jobs = envelopes.map(toJob);
    let markers: (string | null)[];
    try {
      markers = await withTimeout(this.store(jobs), this.opts.storeTimeoutMs, this.noAnswer());
    } catch (err) {
      const why = isRedisFull(err) ? REDIS_FULL : errorMessage(err);
      throw new StoreError(`could not enqueue ${envelopes.length} receipt(s): ${why}`, {
        cause: err,
      });
    }
    return jobs.map((j, i) => ({ jobId: j.jobId, finished: isFinished(markers[i]) }));
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

  private async store(jobs: readonly Job[]): Promise<(string | null)[]> {
    const byType = new Map<MessageType, Job[]>();
    for (const job of jobs) {
      const list = byType.get(job.data.messageType) ?? [];
      list.push(job);
      byType.set(job.data.messageType, list);
    }
    await Promise.all(
      [...byType].map(([type, list]) =>
        this.queues
          .get(type)
          .addBulk(list.map(j => ({ name: type, data: j.data, opts: { jobId: j.jobId } }))),
      ),
    );
    return this.redis.mget(jobs.map(j => this.keys.finished(j.data.messageType, j.jobId)));
  }
}

interface Job {
  readonly jobId: string;
  readonly data: ReceiptJobData;
}

function isFinished(marker: string | null | undefined): boolean {
  return marker === 'completed' || marker === 'dead_lettered';
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
