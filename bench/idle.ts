// Scenario 5, Idle: 10 consumer loops on empty queues. CPU of the daemon process and requests/s it
// makes to SMQ (long polling: no busy loop).
import { runDaemonIdle } from './lib/idle-run.js';
import type { QueueSpec } from './lib/emulator-process.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

export const IDLE_TARGET_CPU_PERCENT = 2;
const TYPES = ['ChatAppStatus', 'ChatAppInbound', 'ChatAppAudit'];

export const IDLE_QUEUES: readonly QueueSpec[] = Array.from({ length: 10 }, (_, i) => ({
  messageType: TYPES[i % TYPES.length] as string,
  queueName: `Alicom-Queue-1234567890123456-BenchIdle${i}`,
}));

export async function idleScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const windowMs = ctx.quick ? 15_000 : 60_000;
  const r = await runDaemonIdle(ctx, { queues: IDLE_QUEUES, windowMs, settleMs: 5_000 });
  return {
    id: 'idle',
    title: 'Idle',
    parameters: {
      consumerLoops: IDLE_QUEUES.length,
      windowSeconds: windowMs / 1000,
      settings: 'production defaults (waitSeconds 30)',
    },
    figures: [
      {
        metric: 'daemon CPU',
        value: r.cpuPercent,
        unit: '% of a core',
        target: `≤ ${IDLE_TARGET_CPU_PERCENT}%`,
        met: r.cpuPercent <= IDLE_TARGET_CPU_PERCENT,
      },
      { metric: 'requests to SMQ', value: round(r.requestsPerSecond, 2), unit: 'req/s' },
      { metric: 'daemon RSS', value: r.rssMb, unit: 'MB' },
    ],
    details: r,
  };
}
