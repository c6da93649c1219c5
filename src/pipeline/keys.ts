import type { MessageType } from '../receipts/types.js';

/** One BullMQ queue per message type; the name is the type itself. */
export function queueNameFor(type: MessageType): string {
  return type;
}

/** Keys cams-receipts owns beside BullMQ's, under the same hash-tagged prefix (Redis Cluster safe). */
export class KeySpace {
  constructor(readonly prefix: string) {}

  /**
   * A handler's completion records: the meta hash of its time buckets; the buckets' shards are this key
   * plus `:<bucket>:<shard>` (see record-scripts.ts).
   */
  records(handler: string): string {
    return `${this.prefix}:idem:${handler}`;
  }

  /** Until when (ms since the epoch) the previous layout's records are looked for; see IdempotencyStore. */
  get legacyUntil(): string {
    return `${this.prefix}:idem-legacy-until`;
  }

  /** The previous layout's record that a handler completed a receipt, honoured until it expires. */
  done(handler: string, dedupeKey: string): string {
    return `${this.prefix}:done:${handler}:${dedupeKey}`;
  }

  /** Held while a handler runs for a receipt, so two workers never run it at once. */
  lock(handler: string, dedupeKey: string): string {
    return `${this.prefix}:lock:${handler}:${dedupeKey}`;
  }

  /** Written when a job finishes, so a poller can tell "finished and removed" from "lost with Redis data". */
  finished(type: MessageType, jobId: string): string {
    return `${this.prefix}:fin:${type}:${jobId}`;
  }

  /** The stream workers append one entry to per finished job (type, job id, outcome), read by pollers. */
  get finishedStream(): string {
    return `${this.prefix}:finished`;
  }

  /** BullMQ's own keys for a queue, for state checks done in one pipelined round trip. */
  bull(type: MessageType, suffix: string): string {
    return `${this.prefix}:${queueNameFor(type)}:${suffix}`;
  }

  /** Written by store probes while receipts wait for Redis to take writes again. */
  get probe(): string {
    return `${this.prefix}:probe`;
  }

  get deadLetterIndex(): string {
    return `${this.prefix}:dlq:index`;
  }

  get deadLetterEntries(): string {
    return `${this.prefix}:dlq:entries`;
  }
}
