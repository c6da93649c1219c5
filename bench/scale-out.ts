// Scenario 6, Scale-out: one daemon process versus two on the same queues and Redis. Throughput ratio,
// and no receipt handled twice (duplicates included).
import { runDaemon } from './lib/daemon-run.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

export async function scaleOutScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 15_000 : 50_000;
  const load = buildLoad(messages, 0.05);
  const runs = [];
  for (const processes of [1, 2]) {
    ctx.log(`scale-out: ${processes} process(es)`);
    const r = await runDaemon(ctx, {
      name: `scale-${processes}`,
      queues: BENCH_QUEUES,
      load,
      processes,
      timeoutMs: 150_000,
    });
    ctx.log(`  ${r.watch.receiptsPerSecond}/s`);
    runs.push({ processes, ...r, rssSamples: undefined });
  }
  const [one, two] = runs as [(typeof runs)[number], (typeof runs)[number]];
  const ok = (r: typeof one): boolean =>
    r.watch.emptied && r.record.distinct === load.distinct && r.record.handledTwice === 0;
  const ratio = round(two.watch.receiptsPerSecond / one.watch.receiptsPerSecond, 2);
  return {
    id: 'scale-out',
    title: 'Scale-out',
    parameters: {
      messages,
      distinctReceipts: load.distinct,
      duplicateMessages: load.duplicates,
      settings: 'production defaults, same queues and Redis',
      handler: 'no-op',
    },
    figures: [
      { metric: '1 process', value: one.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: '2 processes', value: two.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: '2 ÷ 1', value: ratio },
      {
        metric: 'handled twice (1 / 2 processes)',
        value: `${one.record.handledTwice} / ${two.record.handledTwice}`,
        target: '0, every receipt handled',
        met: ok(one) && ok(two),
      },
      {
        metric: 'split between the 2 processes',
        value: Object.values(two.record.byPid)
          .map(n => n.toLocaleString('en-US'))
          .join(' / '),
      },
    ],
    details: runs,
    notes: [
      'Both processes and Redis and the emulator share 2 cores: a second process adds little CPU to spend.',
    ],
  };
}
