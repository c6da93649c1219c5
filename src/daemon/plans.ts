import type { AppConfig, ConsumerConfig } from '../config/types.js';

/** Identifies a consumer loop across reloads. */
export function consumerId(c: ConsumerConfig): string {
  return `${c.endpoint}|${c.queueName}|${c.messageType}`;
}

export interface ListenerPlan {
  /** A listener of its own for health, metrics and the dashboard (admin.port, or a worker's http.port). */
  readonly admin?: { readonly host: string; readonly port: number };
  /** Whether the push receiver listens on http.port. */
  readonly push: boolean;
}

/**
 * Which HTTP listeners a role runs. A worker takes no pushes: its http.port, if any, serves health and
 * metrics only. Without an admin listener, health, metrics and the dashboard share the push receiver's.
 */
export function planListeners(config: Pick<AppConfig, 'http' | 'admin' | 'role'>): ListenerPlan {
  const { http, admin } = config;
  const pollers = config.role !== 'worker';
  const push = pollers && http.port !== 0;
  if (admin.port !== 0) return { admin: { host: admin.host, port: admin.port }, push };
  if (!pollers && http.port !== 0) return { admin: { host: http.host, port: http.port }, push };
  return { push };
}

export interface ReloadPlan {
  /** Consumer loops to start: in the new configuration, not running now. */
  readonly start: readonly ConsumerConfig[];
  /** Consumer loops to stop, by id: running now, gone from the new configuration. */
  readonly stop: readonly string[];
  /** Queue tokens no remaining consumer signs with, as [messageType, queueName]. */
  readonly forgetTokens: readonly (readonly [string, string])[];
  /** The configuration to run: what a reload applies taken from `next`, the rest kept from `current`. */
  readonly config: AppConfig;
  /** Changed settings that only take effect after a restart. */
  readonly restartNeeded: readonly string[];
}

/** Settings a reload cannot apply: they are reported, and take effect at the next start. */
const RESTART_ONLY = ['redis', 'role', 'pipeline', 'http', 'admin', 'credentials', 'log'] as const;

/**
 * What a reload does, from the configuration running (`current`, its loops `runningIds`) and the one re-read
 * (`next`): new queue pairs start, removed ones stop, unchanged ones keep running. A worker runs no loops.
 */
export function planReload(current: AppConfig, next: AppConfig, runningIds: readonly string[]): ReloadPlan {
  const pollers = current.role !== 'worker';
  const wanted = new Map(pollers ? next.consumers.map(c => [consumerId(c), c] as const) : []);
  const stop = runningIds.filter(id => !wanted.has(id));
  const start = [...wanted].filter(([id]) => !runningIds.includes(id)).map(([, c]) => c);
  return {
    start,
    stop,
    forgetTokens: stop.flatMap(id => unusedToken(id, next)),
    config: {
      ...current,
      consumers: next.consumers,
      handlers: next.handlers,
      smq: next.smq,
      shutdown: next.shutdown,
    },
    restartNeeded: RESTART_ONLY.filter(k => JSON.stringify(current[k]) !== JSON.stringify(next[k])),
  };
}

/** A removed queue's token is dropped unless a remaining consumer still signs with it. */
function unusedToken(removedId: string, next: AppConfig): [string, string][] {
  const [, queueName, messageType] = removedId.split('|');
  if (!queueName || !messageType) return [];
  const stillUsed = next.consumers.some(c => c.queueName === queueName && c.messageType === messageType);
  return stillUsed ? [] : [[messageType, queueName]];
}
