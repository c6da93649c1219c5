import type { PipelineConfig, RedisConfig } from '../../src/config/types.js';
import { PermanentError } from '../../src/errors.js';
import type { Handler } from '../../src/contracts/handler.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { fixedHandlers } from '../../src/pipeline/processor.js';
import type { HandlerLookup, HandlerSource } from '../../src/contracts/handler.js';
import type { ReceiptEnvelope } from '../../src/receipts/envelope.js';
import { defaultDedupeKey } from '../../src/receipts/dedupe.js';
import { parsedMessageFor } from '../../src/receipts/inbound.js';
import { MESSAGE_TYPES, type AnyReceipt, type MessageType } from '../../src/receipts/types.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { standaloneRedis } from '../../src/redis/options.js';

export const TEST_PIPELINE: PipelineConfig = {
  concurrency: 8,
  attempts: 3,
  backoffDelayMs: 20,
  handlerTimeoutMs: 2000,
  idempotencyTtlSeconds: 3600,
  removeCompletedAgeSeconds: 3600,
  removeCompletedCount: 1000,
  removeFailedAgeSeconds: 3600,
  removeFailedCount: 1000,
  eventsMaxLen: 10000,
  lockDurationMs: 5000,
  stalledIntervalMs: 5000,
  maxStalledCount: 2,
  workerStaleAfterMs: 30_000,
};

/** A handler source over plain handler objects; the registry's own behaviour is tested elsewhere. */
export function lookup(handlers: readonly Handler[]): HandlerSource {
  const set: HandlerLookup = {
    handlersFor: type => handlers.filter(h => (h.messageTypes as readonly string[]).includes(type)),
    dedupeKeyFor: (h, type, receipt) =>
      h.dedupeKey?.(receipt as never, type as never) ?? defaultDedupeKey(type, receipt),
  };
  return fixedHandlers(set);
}

/** Records every call, and fails the first `failures` calls per dedupe key. */
export function recordingHandler(
  name: string,
  opts: { types?: readonly MessageType[]; failures?: number; permanent?: boolean; delayMs?: number } = {},
): Handler & { calls: { key: string; attempt: number; source: string; redelivered: boolean }[] } {
  const calls: { key: string; attempt: number; source: string; redelivered: boolean }[] = [];
  const failuresLeft = new Map<string, number>();
  return {
    name,
    messageTypes: opts.types ?? MESSAGE_TYPES,
    calls,
    async handle(_receipt, ctx) {
      calls.push({
        key: ctx.dedupeKey,
        attempt: ctx.attempt,
        source: ctx.source,
        redelivered: ctx.redelivered,
      });
      if (opts.delayMs) await new Promise(r => setTimeout(r, opts.delayMs));
      const left = failuresLeft.get(ctx.dedupeKey) ?? opts.failures ?? 0;
      if (left > 0) {
        failuresLeft.set(ctx.dedupeKey, left - 1);
        throw opts.permanent ? new PermanentError('bad receipt') : new Error(`transient failure ${left}`);
      }
    },
  };
}

export function statusEnvelope(messageId: string, status = 'Delivered'): ReceiptEnvelope {
  return envelope('ChatAppStatus', {
    MessageId: messageId,
    Status: status,
    From: '861',
    To: '862',
    Timestamp: Date.now(),
  });
}

export function envelope(messageType: MessageType, receipt: Record<string, unknown>): ReceiptEnvelope {
  return {
    messageType,
    receipt: receipt as AnyReceipt,
    source: 'smq',
    queueName: 'q',
    originTimeMs: Date.now(),
  };
}

export function createPipeline(
  handlers: readonly Handler[],
  opts: {
    url?: string;
    workers?: boolean;
    prefix?: string;
    /** Any Redis form (a cluster, sentinels); overrides `url` and `prefix`. */
    redis?: RedisConfig;
    config?: Partial<PipelineConfig>;
    sweepMs?: number;
    logger?: Logger;
  } = {},
): { pipeline: Pipeline; shutdown: AbortController } {
  const shutdown = new AbortController();
  const pipeline = new Pipeline({
    redis: opts.redis ?? standaloneRedis(opts.url ?? redisUrl(), opts.prefix ?? uniquePrefix('pipe')),
    config: { ...TEST_PIPELINE, ...opts.config },
    logger: opts.logger ?? silentLogger(),
    shutdown: shutdown.signal,
    workers:
      opts.workers === false
        ? undefined
        : {
            handlers: lookup(handlers),
            types: MESSAGE_TYPES,
            parseInbound: r => parsedMessageFor('ChatAppInbound', r),
          },
    completions: true,
    completionSweepMs: opts.sweepMs,
  });
  return { pipeline, shutdown };
}
