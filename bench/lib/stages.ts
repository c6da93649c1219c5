// Where the latency goes, per stage, read back from the BullMQ jobs Redis still holds (the completed jobs
// kept by removeOnComplete): the receipt's BenchSentAtMs stamp, the job's originTimeMs (SMQ EnqueueTime),
// and BullMQ's own timestamp (added) and processedOn (a worker took it).
import type { Redis } from 'ioredis';
import { KeySpace } from '../../src/pipeline/keys.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { percentile } from './system.js';

export interface StageLatency {
  readonly jobs: number;
  /** p50 / p99 in ms of: send → SMQ enqueue, enqueue → BullMQ add, add → worker start. */
  readonly sendToEnqueue: [number, number];
  readonly enqueueToAdd: [number, number];
  readonly addToStart: [number, number];
}

export async function stageLatency(redis: Redis, prefix = '{cams}', sinceMs = 0): Promise<StageLatency> {
  const keys = new KeySpace(prefix);
  const stages: [number[], number[], number[]] = [[], [], []];
  for (const type of MESSAGE_TYPES) {
    const ids = await redis.zrangebyscore(keys.at(0).bull(type, 'completed'), sinceMs, '+inf');
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hmget(keys.at(0).bull(type, id), 'data', 'timestamp', 'processedOn');
    for (const [err, reply] of (await pipeline.exec()) ?? []) {
      if (err) continue;
      const [data, added, started] = reply as (string | null)[];
      const job = JSON.parse(data ?? '{}') as { originTimeMs?: number; receipt?: { BenchSentAtMs?: number } };
      const sent = job.receipt?.BenchSentAtMs;
      if (typeof sent !== 'number' || typeof job.originTimeMs !== 'number') continue;
      stages[0].push(job.originTimeMs - sent);
      stages[1].push(Number(added) - job.originTimeMs);
      stages[2].push(Number(started) - Number(added));
    }
  }
  const p = (values: number[]): [number, number] => {
    const sorted = values.sort((a, b) => a - b);
    return [percentile(sorted, 50), percentile(sorted, 99)];
  };
  return {
    jobs: stages[0].length,
    sendToEnqueue: p(stages[0]),
    enqueueToAdd: p(stages[1]),
    addToStart: p(stages[2]),
  };
}
