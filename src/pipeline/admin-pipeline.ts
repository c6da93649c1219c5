import type { AppConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { silentLogger } from '../observability/logger.js';
import { waitReady } from '../redis/connection.js';
import { describeTarget } from '../redis/options.js';
import { inspectTopology, type Topology } from '../redis/topology.js';
import { errorMessage } from '../util/error-message.js';
import { Pipeline } from './pipeline.js';

/**
 * A pipeline without workers, for admin commands: the queues, the sink, the dead-letter store, and
 * completions when `completions` is set. Rejects when Redis is not reachable within `timeoutMs`.
 */
export async function openAdminPipeline(
  config: AppConfig,
  opts: { completions?: boolean; timeoutMs?: number } = {},
): Promise<Pipeline> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let topology: Topology;
  try {
    // Inspect first: BullMQ queues built on a connection that never comes up leave rejections behind, and a
    // cluster node given as redis.url (or the like) deserves its own message.
    topology = await inspectTopology(config.redis, timeoutMs);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new Error(`${describeTarget(config.redis)} is unreachable: ${errorMessage(err)}`, { cause: err });
  }
  const pipeline = new Pipeline({
    redis: config.redis,
    topology,
    config: config.pipeline,
    logger: silentLogger(),
    shutdown: new AbortController().signal,
    completions: opts.completions ?? false,
  });
  try {
    await waitReady(pipeline.redis, timeoutMs);
    // The queues finish starting before the command uses them (and, soon after, closes them).
    await pipeline.waitUntilReady();
  } catch (err) {
    await pipeline.close();
    throw err;
  }
  return pipeline;
}
