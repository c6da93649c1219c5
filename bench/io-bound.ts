// Scenario 2, I/O-bound handlers: the handler awaits 50 ms (standing for a database write). Receipts/s
// of the daemon and of the Java-style baseline (c), each at its defaults, measured in this run.
import { baseline } from './lib/comparisons.js';
import { runDaemon } from './lib/daemon-run.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

export const IO_TARGET_RATIO = 10;
const DELAY_MS = 50;

export async function ioBoundScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const windowMs = ctx.quick ? 8_000 : 20_000;
  const warmupMs = 3_000;
  const handler = { delayMs: DELAY_MS };

  ctx.log('io-bound: baseline (c)');
  const baselineLoad = buildLoad(ctx.quick ? 10_000 : 30_000, 0);
  const c = await baseline(ctx, {
    load: baselineLoad,
    queues: BENCH_QUEUES,
    handler,
    windowMs,
    warmupMs,
    timeoutMs: 120_000,
  });
  ctx.log(`  ${c.watch.receiptsPerSecond}/s`);
  ctx.log('io-bound: daemon');
  const daemonLoad = buildLoad(ctx.quick ? 20_000 : 100_000, 0);
  const d = await runDaemon(ctx, {
    name: 'io-bound',
    queues: BENCH_QUEUES,
    load: daemonLoad,
    handler,
    windowMs,
    warmupMs,
    timeoutMs: 120_000,
  });
  ctx.log(`  ${d.watch.receiptsPerSecond}/s`);

  const ratio = round(d.watch.receiptsPerSecond / c.watch.receiptsPerSecond, 1);
  return {
    id: 'io-bound',
    title: 'I/O-bound handlers',
    parameters: {
      handlerDelayMs: DELAY_MS,
      windowSeconds: windowMs / 1000,
      warmupSeconds: warmupMs / 1000,
      backlogDaemon: daemonLoad.messages,
      backlogBaseline: baselineLoad.messages,
      settings: 'defaults for both (daemon: production defaults; baseline: 16 handlers per loop)',
    },
    figures: [
      { metric: 'daemon', value: d.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: '(c) baseline', value: c.watch.receiptsPerSecond, unit: 'receipts/s' },
      {
        metric: 'daemon ÷ (c)',
        value: ratio,
        target: `≥ ${IO_TARGET_RATIO}×`,
        met: ratio >= IO_TARGET_RATIO,
      },
      { metric: 'daemon CPU', value: d.cpuPercent[0] ?? NaN, unit: '% of a core' },
    ],
    details: { baseline: c, daemon: { ...d, rssSamples: undefined } },
  };
}
