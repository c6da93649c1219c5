import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/connection.js';
import type { PipelineConfig } from '../config/types.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { ReceiptJobData, ReceiptJobResult } from './job.js';
import { queueNameFor, type KeySpace, type PartitionKeys } from './keys.js';

export type ReceiptQueue = Queue<ReceiptJobData, ReceiptJobResult>;

/** Job options every receipt job gets: bounded retention so Redis does not grow without limit. */
export function defaultJobOptions(cfg: PipelineConfig): JobsOptions {
  return {
    attempts: cfg.attempts,
    backoff: { type: 'exponential', delay: cfg.backoffDelayMs },
    removeOnComplete: { age: cfg.removeCompletedAgeSeconds, count: cfg.removeCompletedCount },
    removeOnFail: { age: cfg.removeFailedAgeSeconds, count: cfg.removeFailedCount },
  };
}

/**
 * The BullMQ queues, one per message type and partition (BullMQ prefix = the partition's prefix), sharing
 * one producer connection; plus, while partitions change, those of the previous layout, still drained.
 */
export class ReceiptQueues {
  private readonly queues: Map<string, ReceiptQueue>;

  constructor(
    connection: RedisClient,
    private readonly keys: KeySpace,
    cfg: PipelineConfig,
  ) {
    const layouts = [...keys.partitions, ...keys.previous];
    this.queues = new Map();
    for (const part of layouts) {
      for (const type of MESSAGE_TYPES) {
        const queue = new Queue<ReceiptJobData, ReceiptJobResult>(queueNameFor(type), {
          connection,
          prefix: part.prefix,
          defaultJobOptions: defaultJobOptions(cfg),
          streams: { events: { maxLen: cfg.eventsMaxLen } },
        });
        queue.on('error', () => undefined);
        this.queues.set(queueId(type, part), queue);
      }
    }
  }

  /** The queue a job of this id goes to. */
  forJob(type: MessageType, jobId: string): ReceiptQueue {
    return this.get(type, this.keys.ofJob(jobId));
  }

  get(type: MessageType, part: PartitionKeys = this.keys.at(0)): ReceiptQueue {
    const queue = this.queues.get(queueId(type, part));
    if (!queue) throw new Error(`no queue for ${type} under ${part.prefix}`);
    return queue;
  }

  /** A type's queues: every partition, then the previous layout's. */
  ofType(type: MessageType): ReceiptQueue[] {
    return [...this.keys.partitions, ...this.keys.previous].map(part => this.get(type, part));
  }

  all(): ReceiptQueue[] {
    return [...this.queues.values()];
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.all().map(q => q.waitUntilReady()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map(q => q.close()));
  }
}

function queueId(type: MessageType, part: PartitionKeys): string {
  return `${part.prefix}|${type}`;
}
