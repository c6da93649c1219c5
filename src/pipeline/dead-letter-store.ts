import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import { StoreError } from '../errors.js';
import type { MessageType } from '../receipts/types.js';
import type { KeySpace } from './keys.js';
import type { DeadLetterEntry, DeadLetterInput } from '../receipts/envelope.js';
import type { DeadLetterSink } from '../contracts/pipeline.js';

export interface DeadLetterQuery {
  readonly type?: MessageType;
  readonly sinceMs?: number;
  readonly limit?: number;
}

/**
 * The dead-letter store: receipts that could not be decoded, validated or processed, with the raw
 * input and the reason. Entries live in one hash, indexed by time in a sorted set.
 */
export class DeadLetterStore implements DeadLetterSink {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  async park(input: DeadLetterInput): Promise<string> {
    const entry: DeadLetterEntry = { ...input, id: input.id ?? randomUUID(), atMs: Date.now() };
    try {
      await this.redis
        .multi()
        .hset(this.keys.deadLetterEntries, entry.id, JSON.stringify(entry))
        .zadd(this.keys.deadLetterIndex, entry.atMs, entry.id)
        .exec();
    } catch (err) {
      throw new StoreError('could not write to the dead-letter store', { cause: err });
    }
    return entry.id;
  }

  async list(query: DeadLetterQuery = {}): Promise<DeadLetterEntry[]> {
    const ids = await this.redis.zrangebyscore(this.keys.deadLetterIndex, query.sinceMs ?? '-inf', '+inf');
    const entries = await this.getMany(ids);
    const filtered = entries.filter(e => !query.type || e.messageType === query.type);
    return query.limit === undefined ? filtered : filtered.slice(0, query.limit);
  }

  async get(id: string): Promise<DeadLetterEntry | undefined> {
    const [entry] = await this.getMany([id]);
    return entry;
  }

  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [hdel] =
      (await this.redis
        .multi()
        .hdel(this.keys.deadLetterEntries, ...ids)
        .zrem(this.keys.deadLetterIndex, ...ids)
        .exec()) ?? [];
    return Number(hdel?.[1] ?? 0);
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.deadLetterIndex);
  }

  private async getMany(ids: readonly string[]): Promise<DeadLetterEntry[]> {
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(this.keys.deadLetterEntries, ...ids);
    return raw.filter((r): r is string => typeof r === 'string').map(r => JSON.parse(r) as DeadLetterEntry);
  }
}
