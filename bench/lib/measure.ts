// What every scenario shares: the environment it runs in, watching SMQ drain, and checking what the
// benchmark handler recorded.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { EmulatorProcess, QueueSpec } from './emulator-process.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from './daemon-process.js';
import { BENCH_QUEUES } from './load.js';
import type { PrivateRedis } from './system.js';
import { CpuWindow, round, sleep } from './system.js';

export interface BenchContext {
  readonly buildDir: string;
  readonly redis: PrivateRedis;
  readonly emulator: EmulatorProcess;
  readonly quick: boolean;
  readonly logDir: string;
  /** Extra node flags for daemon processes (e.g. --cpu-prof while profiling). */
  readonly daemonExecArgv: readonly string[];
  /** Settings layered over the daemon's defaults in every scenario (--daemon-config); empty for the real run. */
  readonly daemonConfig?: Record<string, unknown>;
  log(line: string): void;
}

export function logFile(ctx: BenchContext, name: string): string {
  return join(ctx.logDir, `${name}.log`);
}

/** A clean slate between runs: empty queues, counters zeroed, our private Redis flushed. */
export async function resetAll(ctx: BenchContext): Promise<void> {
  await ctx.emulator.reset();
  await ctx.redis.flush();
}

/** After a reset, one daemon with the benchmark handler and production settings, logging to `<name>.log`. */
export async function freshDaemon(
  ctx: BenchContext,
  name: string,
  queues: readonly QueueSpec[] = BENCH_QUEUES,
): Promise<DaemonProcess> {
  await resetAll(ctx);
  const configDir = writeDaemonConfig({
    emulator: ctx.emulator,
    redisUrl: ctx.redis.url,
    queues,
    handler: { prefix: 'bench' },
    extra: ctx.daemonConfig,
  });
  return startDaemon(ctx.buildDir, configDir, { logFile: logFile(ctx, name), execArgv: ctx.daemonExecArgv });
}

export interface DrainWatch {
  /** Messages deleted inside the measured window. */
  readonly messages: number;
  readonly seconds: number;
  readonly receiptsPerSecond: number;
  /** True when SMQ was empty at the end (false: the window closed first). */
  readonly emptied: boolean;
}

/**
 * Watches SMQ from now: the window ends when the queues are empty, when `windowMs` has passed, or at
 * `timeoutMs`. Messages deleted before now (startup) are not counted, nor is the time they took.
 */
export async function watchDrain(
  ctx: BenchContext,
  queues: readonly string[],
  opts: { windowMs?: number; timeoutMs: number; warmupMs?: number; pollMs?: number },
  onWindowStart?: () => void,
): Promise<DrainWatch> {
  if (opts.warmupMs) await sleep(opts.warmupMs);
  onWindowStart?.();
  const start = await ctx.emulator.totals(queues);
  const t0 = performance.now();
  const deadline = t0 + Math.min(opts.windowMs ?? Infinity, opts.timeoutMs);
  let last = start;
  let emptied = false;
  while (performance.now() < deadline) {
    await sleep(opts.pollMs ?? 100);
    last = await ctx.emulator.totals(queues);
    if (last.left === 0 && last.deleted >= last.sent) {
      emptied = true;
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const messages = last.deleted - start.deleted;
  return { messages, seconds: round(seconds, 2), receiptsPerSecond: Math.round(messages / seconds), emptied };
}

export interface HandlerRecord {
  /** Distinct dedupe keys the handler saw. */
  readonly distinct: number;
  /** Handler calls. */
  readonly calls: number;
  /** Calls beyond the first for some key: receipts handled more than once. */
  readonly handledTwice: number;
  /** Calls per process id. */
  readonly byPid: Record<string, number>;
}

/** Reads the handler's records, once its buffered writes have landed (stable for 300 ms). */
export async function handlerRecord(
  redis: Redis,
  prefix: string,
  expectedCalls?: number,
): Promise<HandlerRecord> {
  let previous = -1;
  for (let i = 0; i < 60; i += 1) {
    const calls = Number((await redis.get(`${prefix}:calls`)) ?? 0);
    if (calls === previous && (expectedCalls === undefined || calls >= expectedCalls)) break;
    previous = calls;
    await sleep(300);
  }
  const [distinct, calls, byPid] = await Promise.all([
    redis.scard(`${prefix}:seen`),
    redis.get(`${prefix}:calls`),
    redis.hgetall(`${prefix}:calls-by-pid`),
  ]);
  const total = Number(calls ?? 0);
  return {
    distinct,
    calls: total,
    handledTwice: total - distinct,
    byPid: Object.fromEntries(Object.entries(byPid).map(([k, v]) => [k, Number(v)])),
  };
}

export function cpuPercent(cpuMs: number, wallMs: number): number {
  return round((cpuMs / wallMs) * 100, 1);
}

/**
 * watchDrain with a CPU window over `pids` that opens when the measured window does (after any warm-up)
 * and closes when it ends. On failure, `stop` runs before the error is thrown on.
 */
export async function watchDrainCpu(
  ctx: BenchContext,
  queues: readonly string[],
  opts: { windowMs?: number; timeoutMs: number; warmupMs?: number },
  pids: Record<string, number>,
  stop: () => Promise<unknown>,
): Promise<{ watch: DrainWatch; cpu: ReturnType<CpuWindow['end']> }> {
  let window = new CpuWindow(pids);
  let watch: DrainWatch;
  try {
    watch = await watchDrain(ctx, queues, opts, () => (window = new CpuWindow(pids)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { watch, cpu: window.end() };
}
