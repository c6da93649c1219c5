import { createHash } from 'node:crypto';
import type { MessageType } from '../receipts/types.js';
import { pushTo } from '../util/group.js';
import { partitionPrefix } from '../redis/partitions.js';

/** One BullMQ queue per message type and partition; the name is the type itself. */
export function queueNameFor(type: MessageType): string {
  return type;
}

/** The partition of a dedupe key: the first 4 bytes of its SHA-256 (as in recordDigest), modulo `count`. */
export function keyPartition(dedupeKey: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('sha256').update(dedupeKey, 'utf8').digest().readUInt32BE(0) % count;
}

/**
 * The partition of a job, from its id alone (see jobIdFor): the partition of the default dedupe key it was
 * made from, so a job and the records of handlers using that key meet in one slot. A hashed id carries the
 * key's SHA-256; a readable one the percent-encoded key. Any other id is hashed itself.
 */
export function jobPartition(jobId: string, count: number): number {
  if (count <= 1) return 0;
  const hashed = /^[a-z]+\.([A-Za-z0-9_-]{43})$/.exec(jobId);
  if (hashed?.[1]) return Buffer.from(hashed[1], 'base64url').readUInt32BE(0) % count;
  const readable = /^[a-z]+-(.*)$/s.exec(jobId);
  if (readable?.[1] !== undefined) {
    try {
      return keyPartition(decodeURIComponent(readable[1]), count);
    } catch {
      // Not percent-encoded by jobIdFor: hash the id below.
    }
  }
  return keyPartition(jobId, count);
}

/** A job, as pollers wait on it. */
export interface JobRef {
  readonly type: MessageType;
  readonly jobId: string;
}

/** The keys of one partition: its BullMQ queues, records, leases and completion stream. */
export class PartitionKeys {
  constructor(
    /** BullMQ's prefix for this partition's queues. */
    readonly prefix: string,
    readonly index: number,
  ) {}

  /**
   * A handler's completion records: the meta hash of its time buckets; the buckets' shards are this key
   * plus `:<bucket>:<shard>` (see record-scripts.ts).
   */
  records(handler: string): string {
    return `${this.prefix}:idem:${handler}`;
  }

  /** The previous records layout's key that a handler completed a receipt, honoured until it expires. */
  done(handler: string, dedupeKey: string): string {
    return `${this.prefix}:done:${handler}:${dedupeKey}`;
  }

  /** Held while a handler runs for a receipt, so two workers never run it at once. */
  lock(handler: string, dedupeKey: string): string {
    return `${this.prefix}:lock:${handler}:${dedupeKey}`;
  }

  /** The stream workers append one entry to per finished job (type, job id, outcome), read by pollers. */
  get finishedStream(): string {
    return `${this.prefix}:finished`;
  }

  /** BullMQ's own keys for a queue, for state checks done in one pipelined round trip. */
  bull(type: MessageType, suffix: string): string {
    return `${this.prefix}:${queueNameFor(type)}:${suffix}`;
  }
}

/**
 * Keys cams-receipts owns beside BullMQ's. Every key of one Lua call or MGET shares a hash tag (Redis
 * Cluster safe). Queues and records are spread over `partitions` hash tags; the dead-letter store, the
 * probe and the records layout marker stay under the prefix itself.
 */
export class KeySpace {
  readonly partitions: readonly PartitionKeys[];
  /** The layout being migrated from (redis.previousPartitions), empty when none. */
  readonly previous: readonly PartitionKeys[];

  constructor(
    readonly prefix: string,
    count = 1,
    previousCount = 0,
  ) {
    this.partitions = partitionsOf(prefix, count);
    this.previous = partitionsOf(prefix, previousCount);
  }

  /** Jobs grouped by the partition holding them: each group is one slot. */
  groupByJob<J extends { jobId: string }>(jobs: readonly J[]): Map<PartitionKeys, J[]> {
    const groups = new Map<PartitionKeys, J[]>();
    for (const job of jobs) pushTo(groups, this.ofJob(job.jobId), job);
    return groups;
  }

  /** The partition holding a job (its queue and stream entry). */
  ofJob(jobId: string): PartitionKeys {
    return this.at(jobPartition(jobId, this.partitions.length));
  }

  /** The partition holding a handler's record and lease for a dedupe key. */
  ofRecord(dedupeKey: string): PartitionKeys {
    return this.at(keyPartition(dedupeKey, this.partitions.length));
  }

  /** The same, in the layout being migrated from (undefined when none). */
  previousOfRecord(dedupeKey: string): PartitionKeys | undefined {
    if (this.previous.length === 0) return undefined;
    return this.previous[keyPartition(dedupeKey, this.previous.length)];
  }

  at(index: number): PartitionKeys {
    const keys = this.partitions[index];
    if (!keys) throw new Error(`no partition ${index} of ${this.partitions.length}`);
    return keys;
  }

  /** Until when (ms since the epoch) the previous records layout is looked for; see IdempotencyStore. */
  get legacyUntil(): string {
    return `${this.prefix}:idem-legacy-until`;
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

function partitionsOf(prefix: string, count: number): PartitionKeys[] {
  return Array.from({ length: count }, (_, p) => new PartitionKeys(partitionPrefix(prefix, p, count), p));
}
