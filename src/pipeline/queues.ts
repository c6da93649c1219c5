import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/connection.js';
import type { PipelineConfig } from '../config/types.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { ReceiptJobData, ReceiptJobResult } from './job.js';
import { queueNameFor } from './keys.js';

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

/** The three BullMQ queues, one per message type, sharing one producer connection. */
export class ReceiptQueues {
  private readonly queues: Map<MessageType, ReceiptQueue>;

  constructor(connection: RedisClient, prefix: string, cfg: PipelineConfig) {
    this.queues = new Map(
      MESSAGE_TYPES.map(type => [
        type,
        new Queue<ReceiptJobData, ReceiptJobResult>(queueNameFor(type), {
          connection,
          prefix,
          defaultJobOptions: defaultJobOptions(cfg),
          streams: { events: { maxLen: cfg.eventsMaxLen } },
        }),
      ]),
    );
    for (const queue of this.queues.values()) queue.on('error', () => undefined);
  }

  get(type: MessageType): ReceiptQueue {
    const queue = this.queues.get(type);
    if (!queue) throw new Error(`no queue for ${type}`);
    return queue;
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
