import { StoreError } from '../errors.js';
import { defaultDedupeKey, jobIdFor } from '../receipts/dedupe.js';
import type { MessageType } from '../receipts/types.js';
import type { ReceiptJobData } from './job.js';
import type { ReceiptQueues } from './queues.js';
import type { ReceiptEnvelope, ReceiptSink, SubmitResult } from './types.js';

export interface BullMqSinkOptions {
  /** Give up on Redis after this long, so callers (SMQ loop, HTTP push) can keep the receipts and retry. */
  readonly storeTimeoutMs: number;
}

/**
 * Adds receipts to BullMQ with a job id derived from the dedupe key, so duplicates and redeliveries
 * collapse into one job. One bulk call per message type and batch.
 */
export class BullMqReceiptSink implements ReceiptSink {
  constructor(
    private readonly queues: ReceiptQueues,
    private readonly opts: BullMqSinkOptions,
  ) {}

  async submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    const jobs = envelopes.map(toJob);
    const byType = new Map<MessageType, typeof jobs>();
    for (const job of jobs) {
      const list = byType.get(job.data.messageType) ?? [];
      list.push(job);
      byType.set(job.data.messageType, list);
    }
    try {
      await withTimeout(
        Promise.all(
          [...byType].map(([type, list]) =>
            this.queues
              .get(type)
              .addBulk(list.map(j => ({ name: type, data: j.data, opts: { jobId: j.jobId } }))),
          ),
        ),
        this.opts.storeTimeoutMs,
      );
    } catch (err) {
      throw new StoreError(`could not enqueue ${envelopes.length} receipt(s): ${messageOf(err)}`, {
        cause: err,
      });
    }
    return jobs.map(j => ({ jobId: j.jobId, finished: false }));
  }
}

function toJob(envelope: ReceiptEnvelope): { jobId: string; data: ReceiptJobData } {
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
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
