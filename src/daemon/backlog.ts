import type { AppConfig, ConsumerConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import { BacklogSampler } from '../observability/backlog-sampler.js';
import type { JobStateCounts, Metrics, SmqQueueCounts } from '../observability/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { jobCounts } from '../pipeline/stats.js';
import { MESSAGE_TYPES } from '../receipts/types.js';
import { queueAttributes } from '../smq/queue-stats.js';
import type { AccountCredentials } from '../credentials/account.js';
import { accountSource, type CredentialSource, type TokenProvider } from '../smq/token-provider.js';

/** BullMQ and dead-letter depths, and the progress lines, every 5 s. */
export const SAMPLE_INTERVAL_MS = 5000;
/** SMQ GetQueueAttributes, a billed request per queue, every 30 s. */
export const SMQ_SAMPLE_INTERVAL_MS = 30_000;

export interface BacklogDeps {
  readonly pipeline: Pipeline;
  /** The current configuration (a reload may change the queues). */
  readonly config: () => AppConfig;
  /** Whether this process polls SMQ (its queues are sampled only then). */
  readonly polls: boolean;
  /** GetQueueAttributes is signed as the consumer loop of the queue signs: the account, or a CAMS token. */
  readonly account: AccountCredentials;
  readonly tokens: () => TokenProvider;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** The daemon's depth sampler: BullMQ counts per type, the dead-letter store, and its SMQ queues. */
export function createBacklogSampler(deps: BacklogDeps, intervalMs = SAMPLE_INTERVAL_MS): BacklogSampler {
  const { pipeline } = deps;
  return new BacklogSampler({
    metrics: deps.metrics,
    logger: deps.logger,
    intervalMs,
    smqIntervalMs: Math.max(intervalMs, SMQ_SAMPLE_INTERVAL_MS),
    sources: {
      jobCounts: async () => {
        const counts = await Promise.all(MESSAGE_TYPES.map(type => jobCounts(pipeline, type)));
        return new Map<string, JobStateCounts>(
          MESSAGE_TYPES.map((type, i) => [type, counts[i] as JobStateCounts]),
        );
      },
      deadLetters: () => pipeline.deadLetters.count(),
      smqQueues: () => (deps.polls ? smqQueues(deps) : Promise.resolve([])),
    },
  });
}

async function smqQueues(deps: BacklogDeps): Promise<SmqQueueCounts[]> {
  const config = deps.config();
  const stats = await Promise.all(
    config.consumers.map(consumer => queueAttributes(config, consumer, credentials(deps, consumer))),
  );
  const out: SmqQueueCounts[] = [];
  for (const s of stats) if (s.available) out.push({ ...s, queue: s.queueName, type: s.messageType });
  return out;
}

function credentials(deps: BacklogDeps, consumer: ConsumerConfig): CredentialSource {
  if (consumer.auth !== 'cams') return accountSource(deps.account);
  return deps.tokens().forQueue(consumer.messageType, consumer.queueName);
}
