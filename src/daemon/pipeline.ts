import type { AppConfig } from '../config/types.js';
import type { HandlerSource } from '../contracts/handler.js';
import { ErrorReporter } from '../observability/error-reporter.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { parsedMessageFor } from '../receipts/inbound.js';
import { receivedTypes } from '../handlers/coverage.js';
import { describeTarget } from '../redis/options.js';
import { describeTopology, waitForTopology, type Topology } from '../redis/topology.js';
import { abortable } from '../util/async.js';

export interface DaemonPipelineDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Aborted when the drain deadline passes: running handlers see it through ctx.signal. */
  readonly shutdown: AbortSignal;
  /** The handlers workers run; none in a poller. */
  readonly handlers: HandlerSource | undefined;
}

/** The pipeline for the daemon's role: workers when it runs handlers, completions when it polls. */
export function daemonPipeline(config: AppConfig, topology: Topology, deps: DaemonPipelineDeps): Pipeline {
  const { handlers, metrics } = deps;
  return new Pipeline({
    redis: config.redis,
    topology,
    config: config.pipeline,
    logger: deps.logger,
    shutdown: deps.shutdown,
    workers: handlers
      ? {
          handlers,
          types: receivedTypes(config),
          parseInbound: receipt => parsedMessageFor('ChatAppInbound', receipt),
          onHandlerFinished: e => metrics.handlerFinished(e),
          onJobFinished: e => metrics.jobFinished(e),
        }
      : undefined,
    completions: config.role !== 'worker',
  });
}

export interface ConnectDeps extends DaemonPipelineDeps {
  /** Aborts the wait (a SIGTERM before Redis answered): rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Takes the pipeline as soon as it is built, before it is ready, so a stop can close it. */
  readonly built: (pipeline: Pipeline) => void;
}

/**
 * Finds Redis, then builds the pipeline on it and waits until it is ready, saying so every 5 s. Nothing
 * fetches before the address is known to hold the configured topology: another one (a cluster node as
 * redis.url…) rejects with a ConfigError naming the key.
 */
export async function connectPipeline(config: AppConfig, deps: ConnectDeps): Promise<Pipeline> {
  const { logger, signal } = deps;
  const redis = describeTarget(config.redis);
  const timer = setInterval(() => logger.warn('waiting for Redis', { event: 'redis_waiting', redis }), 5000);
  const errors = new ErrorReporter({ logger });
  try {
    const topology = await waitForTopology(config.redis, {
      signal,
      onUnreachable: err => errors.report('redis_unreachable', err, { redis }),
    });
    logger.info('Redis found', { event: 'redis_topology', topology: describeTopology(topology) });
    if (topology.kind === 'cluster' && config.redis.partitions === 1)
      logger.warn('every key is under one hash tag, so one master does all the work: set redis.partitions', {
        event: 'redis_single_partition',
      });
    const pipeline = daemonPipeline(config, topology, deps);
    deps.built(pipeline);
    const ready = pipeline.waitUntilReady();
    ready.catch(() => undefined); // abandoned when the wait is aborted
    await abortable(ready, signal);
    return pipeline;
  } finally {
    clearInterval(timer);
    errors.close();
  }
}
