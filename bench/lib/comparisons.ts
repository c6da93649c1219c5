// The figures the daemon is compared with: the emulator ceiling (a), the BullMQ ceiling (b) and the
// Java-style baseline (c), each run in a process of its own.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaselineConfig } from './baseline-child.js';
import type { CeilingBullmqConfig } from './ceiling-bullmq-child.js';
import type { CeilingEmulatorConfig } from './ceiling-emulator-child.js';
import { startChild } from './child.js';
import type { QueueSpec } from './emulator-process.js';
import { preload, type Load } from './load.js';
import { smqTarget } from './mns.js';
import {
  cpuPercent,
  handlerRecord,
  resetAll,
  watchDrainCpu,
  type BenchContext,
  type DrainWatch,
  type HandlerRecord,
} from './measure.js';
import { perReceipt } from './daemon-run.js';
import { CpuWindow } from './system.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface CeilingResult {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU of the process doing it, % of one core. */
  readonly cpuPercent: number;
  /** CPU per item of that process, Redis and the emulator, µs. */
  readonly cpuUsPerItem: { process: number; redis: number; emulator: number; total: number };
  /** The rest of the machine meanwhile, % of one core (other work makes throughput noisy). */
  readonly othersPercent: number;
}

function ceilingResult(done: Record<string, unknown>, countKey: string, window: CpuWindow): CeilingResult {
  const cpu = window.end();
  const count = Number(done[countKey]);
  const ms = Number(done['ms']);
  const us = (cpuMs: number): number => Math.round((cpuMs * 1000) / Math.max(1, count));
  const processMs = Number(done['cpuMs']);
  const redisMs = cpu.cpuMs['redis'] ?? 0;
  const emulatorMs = cpu.cpuMs['emulator'] ?? 0;
  return {
    messages: count,
    seconds: Math.round(ms / 10) / 100,
    perSecond: Math.round(count / (ms / 1000)),
    cpuPercent: cpuPercent(processMs, ms),
    cpuUsPerItem: {
      process: us(processMs),
      redis: us(redisMs),
      emulator: us(emulatorMs),
      total: us(processMs + redisMs + emulatorMs),
    },
    othersPercent: cpuPercent(cpu.othersMs, cpu.wallMs),
  };
}

/** (a) Official client, receive + batch delete, no processing, until the preloaded queues are empty. */
export async function emulatorCeiling(
  ctx: BenchContext,
  load: Load,
  queues: readonly QueueSpec[],
  loopsPerQueue: number,
): Promise<CeilingResult> {
  await resetAll(ctx);
  await preload(ctx.emulator, load);
  const config: CeilingEmulatorConfig = {
    ...smqTarget(ctx.emulator),
    queues: queues.map(q => q.queueName),
    loopsPerQueue,
  };
  const child = await startChild(join(here, 'ceiling-emulator-child.ts'), config);
  const window = new CpuWindow({ child: child.pid, redis: ctx.redis.pid, emulator: ctx.emulator.pid });
  child.send({ type: 'go' });
  const done = await child.next('done');
  const result = ceilingResult(done, 'received', window);
  await child.stop();
  if (result.messages !== load.messages)
    throw new Error(`emulator ceiling received ${result.messages} of ${load.messages}`);
  return result;
}

/** (b) BullMQ alone: addBulk + no-op workers on the same Redis, until every job completed. */
export async function bullmqCeiling(
  ctx: BenchContext,
  settings: Omit<CeilingBullmqConfig, 'redisUrl' | 'prefix'>,
  /** Runs after the reset, before the child connects (e.g. a memory reading). */
  beforeStart?: () => Promise<void>,
): Promise<CeilingResult> {
  await resetAll(ctx);
  await beforeStart?.();
  const child = await startChild(join(here, 'ceiling-bullmq-child.ts'), {
    ...settings,
    redisUrl: ctx.redis.url,
    prefix: '{ceiling}',
  } satisfies CeilingBullmqConfig);
  const window = new CpuWindow({ child: child.pid, redis: ctx.redis.pid, emulator: ctx.emulator.pid });
  child.send({ type: 'go' });
  const done = await child.next('done');
  const result = ceilingResult(done, 'completed', window);
  await child.stop();
  return result;
}

export interface BaselineResult {
  readonly watch: DrainWatch;
  readonly record: HandlerRecord;
  readonly cpuPercent: number;
  readonly cpu: ReturnType<CpuWindow['end']>;
  readonly cpuUsPerReceipt: ReturnType<typeof perReceipt>;
}

/** (c) The Java-puller port, measured like the daemon: from its start until SMQ is empty (or the window closes). */
export async function baseline(
  ctx: BenchContext,
  opts: {
    load: Load;
    queues: readonly QueueSpec[];
    handler?: Record<string, unknown>;
    windowMs?: number;
    warmupMs?: number;
    timeoutMs: number;
  },
): Promise<BaselineResult> {
  await resetAll(ctx);
  await preload(ctx.emulator, opts.load);
  const config: BaselineConfig = {
    ...smqTarget(ctx.emulator),
    queues: opts.queues,
    handler: { redisUrl: ctx.redis.url, prefix: 'bench', ...opts.handler },
    poolSize: 16,
    workQueueSlots: 200,
    waitSeconds: 30,
  };
  const child = await startChild(join(here, 'baseline-child.ts'), config);
  const pids = { baseline: child.pid, redis: ctx.redis.pid, emulator: ctx.emulator.pid };
  const { watch, cpu } = await watchDrainCpu(
    ctx,
    opts.queues.map(q => q.queueName),
    { windowMs: opts.windowMs, timeoutMs: opts.timeoutMs, warmupMs: opts.warmupMs },
    pids,
    () => child.stop(),
  );
  await child.stop();
  return {
    watch,
    record: await handlerRecord(ctx.redis.client, 'bench'),
    cpuPercent: cpuPercent(cpu.cpuMs['baseline'] ?? 0, cpu.wallMs),
    cpu,
    cpuUsPerReceipt: perReceipt(cpu.cpuMs, watch.messages),
  };
}
