// Scenario batch: a handler that writes to a database costing 5 ms per call plus 0.1 ms per receipt, over a
// pool of 4 connections, drained one receipt per call (`handle`) and in bulk (`handleBatch`, up to 100
// receipts within 10 ms), in this run.
import { runDaemon } from './lib/daemon-run.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

const DB = { costMs: 5, perReceiptMs: 0.1, pool: 4 };
const BATCH = { batchSize: 100, lingerMs: 10 };

export async function batchScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const windowMs = ctx.quick ? 8_000 : 20_000;
  const warmupMs = 3_000;
  const run = async (name: string, handler: Record<string, unknown>, messages: number) => {
    ctx.log(`batch: ${name}`);
    const r = await runDaemon(ctx, {
      name,
      queues: BENCH_QUEUES,
      load: buildLoad(messages, 0),
      handler,
      windowMs,
      warmupMs,
      timeoutMs: 240_000,
    });
    ctx.log(`  ${r.watch.receiptsPerSecond}/s, handled twice ${r.record.handledTwice}`);
    return r;
  };
  const single = await run('batch-single', DB, ctx.quick ? 15_000 : 40_000);
  const bulk = await run('batch-bulk', { ...DB, ...BATCH }, ctx.quick ? 40_000 : 120_000);
  return {
    id: 'batch',
    title: 'Batch handlers',
    parameters: {
      database: `${DB.costMs} ms per call + ${DB.perReceiptMs} ms per receipt, ${DB.pool} connections`,
      batch: `handleBatch, up to ${BATCH.batchSize} receipts within ${BATCH.lingerMs} ms`,
      windowSeconds: windowMs / 1000,
      warmupSeconds: warmupMs / 1000,
      settings: 'production defaults (256 slots per type), 1 process',
    },
    figures: [
      { metric: 'handle (one per call)', value: single.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: 'handleBatch', value: bulk.watch.receiptsPerSecond, unit: 'receipts/s' },
      {
        metric: 'batch ÷ single',
        value: round(bulk.watch.receiptsPerSecond / single.watch.receiptsPerSecond, 1),
      },
      { metric: 'handled twice', value: single.record.handledTwice + bulk.record.handledTwice },
      { metric: 'daemon CPU, batch', value: bulk.cpuPercent[0] ?? NaN, unit: '% of a core' },
    ],
    details: { single: single.watch, batch: bulk.watch },
  };
}
