import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/types.js';
import { Daemon } from '../../src/daemon.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator/index.js';
import { HandlerRegistry } from '../../src/handlers/registry.js';
import type { Handler } from '../../src/contracts/handler.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { blockingConnection, type RedisClient } from '../../src/redis/connection.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';

export interface Rig {
  readonly emulator: EmulatorHandle;
  readonly daemon: Daemon;
  readonly config: AppConfig;
  readonly configDir: string;
  /** A client of the daemon's Redis, in whatever form it has, that rides out outages and failovers. */
  readonly redis: RedisClient;
  /** Everything (messages sent, received, deleted) across the emulator's queues. */
  totals(): { sent: number; received: number; deleted: number; inFlight: number; visible: number };
  close(): Promise<void>;
}

/** Fast-paced settings, so leases, tokens and backoffs happen within a test's time. */
const FAST: Record<string, unknown> = {
  smq: {
    waitSeconds: 1,
    visibilityTimeoutSeconds: 30,
    leaseLeadMs: 1000,
    deleteFlushMs: 20,
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    queueMissingBackoffMs: 1000,
    tokenRefreshMarginMs: 1000,
  },
  pipeline: { attempts: 3, backoffDelayMs: 50, concurrency: 16, handlerTimeoutMs: 10_000 },
  shutdown: { drainTimeoutMs: 5000 },
};

export function writeConfigDir(
  emulator: EmulatorHandle,
  settings: {
    /** The suite's Redis unless `redis` (the configuration's `redis` section, prefix aside) says otherwise. */
    redisUrl?: string;
    redis?: Record<string, unknown>;
    prefix: string;
    extra?: Record<string, unknown>;
    handlers?: unknown[];
  },
): string {
  const dir = mkdtempSync(join(tmpdir(), 'cams-daemon-'));
  mkdirSync(join(dir, 'queues'));
  const base = {
    redis: { ...(settings.redis ?? { url: settings.redisUrl ?? redisUrl() }), prefix: settings.prefix },
    smq: {
      ...(FAST['smq'] as object),
      endpoint: emulator.endpoint,
      accountId: emulator.accountId,
      tokenEndpoint: emulator.endpoint,
    },
    credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
    pipeline: FAST['pipeline'],
    shutdown: FAST['shutdown'],
    handlers: settings.handlers ?? ['log'],
  };
  writeFileSync(join(dir, 'default.json'), JSON.stringify(deepMerge(base, settings.extra ?? {}), null, 2));
  const queues = MESSAGE_TYPES.filter(t => emulator.queues[t] !== undefined).map(t => ({
    messageType: t,
    queueName: emulator.queues[t],
  }));
  writeFileSync(join(dir, 'queues', 'cams.json'), JSON.stringify(queues, null, 2));
  return dir;
}

export async function startRig(
  handlers: readonly Handler[],
  opts: {
    emulator?: EmulatorOptions;
    extra?: Record<string, unknown>;
    redisUrl?: string;
    redis?: Record<string, unknown>;
    logger?: Logger;
  } = {},
): Promise<Rig> {
  const emulator = await startEmulator({ port: 0, ...opts.emulator });
  const configDir = writeConfigDir(emulator, {
    redisUrl: opts.redisUrl,
    redis: opts.redis,
    prefix: uniquePrefix('daemon'),
    extra: opts.extra,
  });
  const config = loadConfig({ cwd: configDir, env: {}, configDir });
  const logger = opts.logger ?? silentLogger();
  const registry = new HandlerRegistry({ logger });
  for (const h of handlers) registry.register(h);
  const daemon = new Daemon({ config, logger, registry });
  await daemon.start();
  const redis = blockingConnection(config.redis);
  redis.on('error', () => undefined);
  return {
    emulator,
    daemon,
    config,
    configDir,
    redis,
    totals() {
      const t = { sent: 0, received: 0, deleted: 0, inFlight: 0, visible: 0 };
      for (const q of Object.values(emulator.stats().queues)) {
        t.sent += q.sent;
        t.received += q.received;
        t.deleted += q.deleted;
        t.inFlight += q.inFlight;
        t.visible += q.visible;
      }
      return t;
    },
    async close() {
      await daemon.stop();
      redis.disconnect();
      await emulator.close();
    },
  };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Counts each receipt's effects in this process's memory: outside the Redis the test kills. */
export function countingHandler(delayMs: number): Handler & { effects: Map<string, number> } {
  const effects = new Map<string, number>();
  return {
    name: 'counter',
    messageTypes: ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'],
    effects,
    async handle(_receipt, ctx) {
      await new Promise(resolve => setTimeout(resolve, delayMs));
      effects.set(ctx.dedupeKey, (effects.get(ctx.dedupeKey) ?? 0) + 1);
    },
  };
}
