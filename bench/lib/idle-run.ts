// The daemon on empty queues: CPU time and SMQ requests over a window, after it settled.
import type { QueueSpec } from './emulator-process.js';
import { cpuPercent, freshDaemon, type BenchContext } from './measure.js';
import { sleep } from './system.js';

export interface IdleResult {
  readonly cpuPercent: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly rssMb: number;
  readonly windowSeconds: number;
}

export async function runDaemonIdle(
  ctx: BenchContext,
  opts: { queues: readonly QueueSpec[]; windowMs: number; settleMs: number },
): Promise<IdleResult> {
  const daemon = await freshDaemon(ctx, 'idle', opts.queues);
  try {
    await sleep(opts.settleMs);
    const cpu0 = daemon.cpuMs();
    const req0 = (await ctx.emulator.stats()).requests;
    const t0 = performance.now();
    await sleep(opts.windowMs);
    const req1 = (await ctx.emulator.stats()).requests;
    const ms = performance.now() - t0;
    const cpu = cpuPercent(daemon.cpuMs() - cpu0, ms);
    return {
      cpuPercent: cpu,
      requests: req1 - req0,
      requestsPerSecond: (req1 - req0) / (ms / 1000),
      rssMb: daemon.memory().rssMb,
      windowSeconds: Math.round(ms / 1000),
    };
  } finally {
    await daemon.stop();
  }
}
