import type { AppConfig } from '../config/types.js';
import { redactedMessage } from '../observability/redact.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import { describeTarget } from '../redis/options.js';
import { describeTopology } from '../redis/topology.js';
import { openAdminPipeline } from './admin-pipeline.js';
import type { Pipeline } from './pipeline.js';

export interface JobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
}

/** The Redis side of `stats`: BullMQ job counts per type and the dead-letter count, or why Redis is unavailable. */
export interface PipelineStats {
  readonly redis: {
    /** Where the configuration says Redis is (passwords hidden). */
    readonly target: string;
    /** What was found there: standalone, the master the sentinels name, or the cluster's masters. */
    readonly topology?: string;
    readonly prefix: string;
    readonly available: boolean;
    readonly reason?: string;
  };
  readonly bullmq: Partial<Record<MessageType, JobCounts>>;
  readonly deadLetters?: number;
}

/** Reads the counts through a pipeline without workers; an unreachable Redis is reported, not thrown. */
export async function pipelineStats(config: AppConfig): Promise<PipelineStats> {
  const redis = { target: describeTarget(config.redis), prefix: config.redis.prefix };
  let pipeline: Pipeline | undefined;
  try {
    pipeline = await openAdminPipeline(config);
    const open = pipeline;
    const counts = await Promise.all(MESSAGE_TYPES.map(type => jobCounts(open, type)));
    const bullmq = Object.fromEntries(MESSAGE_TYPES.map((type, i) => [type, counts[i]]));
    const topology = open.topology ? describeTopology(open.topology) : undefined;
    return {
      redis: { ...redis, topology, available: true },
      bullmq,
      deadLetters: await open.deadLetters.count(),
    };
  } catch (err) {
    return { redis: { ...redis, available: false, reason: redactedMessage(err) }, bullmq: {} };
  } finally {
    await pipeline?.close();
  }
}

/** One type's BullMQ job counts, summed over its partitions (prioritized jobs count as waiting). */
export async function jobCounts(pipeline: Pipeline, type: MessageType): Promise<JobCounts> {
  const all = await Promise.all(
    pipeline.queues
      .ofType(type)
      .map(q => q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed')),
  );
  const c: Record<string, number> = {};
  for (const counts of all) for (const [state, n] of Object.entries(counts)) c[state] = (c[state] ?? 0) + n;
  return {
    // Prioritized jobs wait too, in their own set.
    waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
    active: c['active'] ?? 0,
    delayed: c['delayed'] ?? 0,
    completed: c['completed'] ?? 0,
    failed: c['failed'] ?? 0,
  };
}
