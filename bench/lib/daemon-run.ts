// One measured run of the daemon (or several daemon processes) against a preloaded SMQ.
import { deepMerge, startDaemon, writeDaemonConfig, type DaemonProcess } from './daemon-process.js';
import type { QueueSpec } from './emulator-process.js';
import { preload, type Load } from './load.js';
import {
  cpuPercent,
  handlerRecord,
  logFile,
  resetAll,
  watchDrainCpu,
  type BenchContext,
  type DrainWatch,
  type HandlerRecord,
} from './measure.js';
import type { CpuWindow } from './system.js';
import { RssSampler } from './system.js';

export interface DaemonRunOptions {
  readonly name: string;
  readonly queues: readonly QueueSpec[];
  readonly load: Load;
  readonly processes?: number;
  /** Benchmark handler options (delayMs…). */
  readonly handler?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
  readonly windowMs?: number;
  readonly warmupMs?: number;
  readonly timeoutMs: number;
  /** Runs after the preload, before the daemon starts (e.g. emulator faults, which a reset clears). */
  readonly beforeStart?: () => Promise<void>;
  /** The daemon's `redis` section, when it is not the benchmark's Redis (which the handler records in). */
  readonly redis?: Record<string, unknown>;
  /** More processes whose CPU the window measures (the daemon's own Redis servers). */
  readonly pids?: Readonly<Record<string, number>>;
}

export interface DaemonRunResult {
  readonly watch: DrainWatch;
  readonly record: HandlerRecord;
  /** CPU of each daemon process over the measured window, % of one core. */
  readonly cpuPercent: number[];
  /** CPU ms over the window: each daemon, Redis, the emulator, and the rest of the machine. */
  readonly cpu: ReturnType<CpuWindow['end']>;
  /** Daemon + Redis + emulator CPU per receipt deleted, µs: robust to other load on the machine. */
  readonly cpuUsPerReceipt: { daemon: number; redis: number; emulator: number; total: number };
  /** Peak RSS of each daemon process, MB (kernel high-water mark, VmHWM). */
  readonly peakRssMb: number[];
  readonly rssSamples: { atMs: number; rssMb: number }[][];
}

export const HANDLER_PREFIX = 'bench';

export async function runDaemon(ctx: BenchContext, opts: DaemonRunOptions): Promise<DaemonRunResult> {
  await resetAll(ctx);
  await preload(ctx.emulator, opts.load);
  await opts.beforeStart?.();
  const configDir = writeDaemonConfig({
    emulator: ctx.emulator,
    redisUrl: ctx.redis.url,
    redis: opts.redis,
    queues: opts.queues,
    handler: { prefix: HANDLER_PREFIX, ...opts.handler },
    extra: deepMerge(ctx.daemonConfig ?? {}, opts.extra ?? {}),
  });
  const n = opts.processes ?? 1;
  const daemons: DaemonProcess[] = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startDaemon(ctx.buildDir, configDir, {
        logFile: logFile(ctx, `${opts.name}-${i + 1}`),
        execArgv: ctx.daemonExecArgv,
      }),
    ),
  );
  const samplers = daemons.map(d => new RssSampler(d.pid).start());
  const pids: Record<string, number> = {
    redis: ctx.redis.pid,
    emulator: ctx.emulator.pid,
    ...opts.pids,
  };
  daemons.forEach((d, i) => (pids[`daemon${i + 1}`] = d.pid));
  // Readings (CPU at the window's end, then RSS) first, then the drain and exit.
  const { watch, cpu: windowCpu } = await watchDrainCpu(
    ctx,
    opts.queues.map(q => q.queueName),
    { windowMs: opts.windowMs, timeoutMs: opts.timeoutMs, warmupMs: opts.warmupMs },
    pids,
    () => Promise.all(daemons.map(d => d.stop())),
  );
  const cpu = daemons.map((_, i) => cpuPercent(windowCpu.cpuMs[`daemon${i + 1}`] ?? 0, windowCpu.wallMs));
  const memory = samplers.map(s => s.stop());
  await Promise.all(daemons.map(d => d.stop()));
  const record = await handlerRecord(ctx.redis.client, HANDLER_PREFIX);
  return {
    watch,
    record,
    cpu: windowCpu,
    cpuUsPerReceipt: perReceipt(windowCpu.cpuMs, watch.messages),
    cpuPercent: cpu,
    peakRssMb: memory.map(m => m.hwmMb),
    rssSamples: samplers.map(s => s.samples),
  };
}

export function perReceipt(
  cpuMs: Record<string, number>,
  receipts: number,
): { daemon: number; redis: number; emulator: number; total: number } {
  const us = (ms: number): number => Math.round((ms * 1000) / Math.max(1, receipts));
  const daemonMs = Object.entries(cpuMs)
    .filter(([k]) => k.startsWith('daemon') || k === 'baseline')
    .reduce((s, [, v]) => s + v, 0);
  const redis = cpuMs['redis'] ?? 0;
  const emulator = cpuMs['emulator'] ?? 0;
  return {
    daemon: us(daemonMs),
    redis: us(redis),
    emulator: us(emulator),
    total: us(daemonMs + redis + emulator),
  };
}
