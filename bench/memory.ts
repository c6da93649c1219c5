// Scenario 4, Memory: the daemon drains a backlog of 20k and of 200k messages; its peak RSS must stay
// flat (bounded by maxInFlight, not by the backlog) and at most 200 MB.
import { configSchema } from '../src/config/schema.js';
import { runDaemon } from './lib/daemon-run.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

const MAX_IN_FLIGHT = configSchema.smq.maxInFlight.default;

export const MEMORY_TARGET_MB = 200;

export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const sizes = ctx.quick ? [5_000, 50_000] : [20_000, 200_000];
  const runs = [];
  for (const size of sizes) {
    ctx.log(`memory: backlog ${size}`);
    const load = buildLoad(size, 0);
    // Bounded, so a slow machine still finishes the suite in time: peak RSS over the first 90 s of a
    // backlog still tells whether memory follows the backlog.
    const r = await runDaemon(ctx, { name: `memory-${size}`, queues: BENCH_QUEUES, load, timeoutMs: 90_000 });
    ctx.log(`  peak ${r.peakRssMb[0]} MB, ${r.watch.receiptsPerSecond}/s`);
    runs.push({ size, peakMb: r.peakRssMb[0] ?? NaN, watch: r.watch, samples: r.rssSamples[0] ?? [] });
  }
  const [small, large] = runs as [(typeof runs)[number], (typeof runs)[number]];
  const worst = Math.max(small.peakMb, large.peakMb);
  return {
    id: 'memory',
    title: 'Memory',
    parameters: {
      backlogs: sizes.map(n => n.toLocaleString('en-US')).join(' and '),
      window: 'until SMQ is empty, at most 90 s',
      settings: `production defaults (maxInFlight ${MAX_IN_FLIGHT} per loop, 3 loops)`,
      handler: 'no-op',
      measured: 'VmHWM of the daemon process',
    },
    figures: [
      {
        metric: `peak RSS, backlog ${small.size.toLocaleString('en-US')}`,
        value: small.peakMb,
        unit: 'MB',
        target: `≤ ${MEMORY_TARGET_MB} MB`,
        met: small.peakMb <= MEMORY_TARGET_MB,
      },
      {
        metric: `peak RSS, backlog ${large.size.toLocaleString('en-US')}`,
        value: large.peakMb,
        unit: 'MB',
        target: `≤ ${MEMORY_TARGET_MB} MB`,
        met: large.peakMb <= MEMORY_TARGET_MB,
      },
      {
        metric: 'large ÷ small backlog peak',
        value: round(large.peakMb / small.peakMb, 2),
        target: '≤ 1.2 (flat)',
        met: large.peakMb / small.peakMb <= 1.2,
      },
      {
        metric: 'drained in the window (small / large)',
        value: `${small.watch.messages.toLocaleString('en-US')} / ${large.watch.messages.toLocaleString('en-US')} in ${small.watch.seconds} / ${large.watch.seconds} s`,
      },
      { metric: 'worst peak', value: worst, unit: 'MB' },
    ],
    details: runs.map(r => ({ ...r, samples: r.samples.filter((_, i) => i % 4 === 0) })),
  };
}
