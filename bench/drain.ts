// Scenario 1, Drain: a preloaded backlog of mixed receipts (5% duplicate messages), a no-op handler,
// delete after processing; receipts/s until SMQ is empty, next to the emulator ceiling (a), the BullMQ
// ceiling (b) and the Java-style baseline (c), all measured in this run.
import { baseline, bullmqCeiling, emulatorCeiling } from './lib/comparisons.js';
import { runDaemon } from './lib/daemon-run.js';
import { BENCH_QUEUES, TYPE_MIX, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

export const DRAIN_TARGET_PER_SECOND = 5000;
export const DRAIN_TARGET_OF_BULLMQ = 0.3;

export async function drainScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 20_000 : 100_000;
  const duplicateRatio = 0.05;
  const load = buildLoad(messages, duplicateRatio);
  const timeoutMs = 240_000;

  ctx.log(`drain: emulator ceiling (a), ${messages} messages`);
  const a = await emulatorCeiling(ctx, load, BENCH_QUEUES, 1);
  ctx.log(`  ${a.perSecond}/s`);
  ctx.log(`drain: BullMQ ceiling (b), ${messages} jobs`);
  const bSettings = { jobs: messages, bulkSize: 100, producers: 4, concurrency: 256 };
  const b = await bullmqCeiling(ctx, bSettings);
  ctx.log(`  ${b.perSecond}/s`);
  ctx.log(`drain: baseline (c)`);
  const c = await baseline(ctx, { load, queues: BENCH_QUEUES, timeoutMs });
  ctx.log(`  ${c.watch.receiptsPerSecond}/s`);
  ctx.log(`drain: daemon`);
  const d = await runDaemon(ctx, { name: 'drain', queues: BENCH_QUEUES, load, timeoutMs });
  ctx.log(`  ${d.watch.receiptsPerSecond}/s`);

  const rate = d.watch.receiptsPerSecond;
  const ofBullmq = round(rate / b.perSecond, 2);
  const handledOnce = d.watch.emptied && d.record.distinct === load.distinct && d.record.handledTwice === 0;
  const us = d.cpuUsPerReceipt;
  /**
   * What the CPU cost alone allows with nothing else running: 2 cores for all the processes, and one core
   * for the process doing the work (Node runs its JavaScript on one thread).
   */
  const bound = (totalUs: number, processUs: number): number =>
    Math.round(Math.min(2_000_000 / totalUs, 1_000_000 / processUs));
  const others = (ms: number, wall: number): number => round((ms / wall) * 100, 0);
  return {
    id: 'drain',
    title: 'Drain',
    parameters: {
      messages,
      distinctReceipts: load.distinct,
      duplicateMessages: load.duplicates,
      mix: Object.entries(TYPE_MIX)
        .filter(([, s]) => s > 0)
        .map(([t, s]) => `${t} ${Math.round(s * 100)}%`)
        .join(', '),
      handler: 'no-op (records keys in Redis every 100 ms)',
      daemon: 'built JS, production defaults and node flags, 1 process, 3 consumer loops',
      emulatorCeiling: '@alicloud/mns BatchReceive(16) + BatchDelete, 1 loop per queue',
      bullmqCeiling: `addBulk(${bSettings.bulkSize}) × ${bSettings.producers} in flight, worker concurrency ${bSettings.concurrency} per type, the daemon's job options`,
      baseline:
        'Java-puller port: 1 loop per queue, batchReceive(16), 16 handlers, DeleteMessage per message',
    },
    figures: [
      {
        metric: 'daemon',
        value: rate,
        unit: 'receipts/s',
        target: `≥ ${DRAIN_TARGET_PER_SECOND.toLocaleString('en-US')}`,
        met: rate >= DRAIN_TARGET_PER_SECOND,
      },
      { metric: '(a) emulator ceiling', value: a.perSecond, unit: 'msgs/s' },
      { metric: '(b) BullMQ ceiling', value: b.perSecond, unit: 'jobs/s' },
      { metric: '(c) baseline', value: c.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: 'daemon ÷ (a)', value: round(rate / a.perSecond, 2) },
      {
        metric: 'daemon ÷ (b)',
        value: ofBullmq,
        target: `≥ ${DRAIN_TARGET_OF_BULLMQ}`,
        met: ofBullmq >= DRAIN_TARGET_OF_BULLMQ,
      },
      { metric: 'daemon ÷ (c)', value: round(rate / c.watch.receiptsPerSecond, 2) },
      {
        metric: 'each distinct receipt handled once',
        value: `${d.record.distinct.toLocaleString('en-US')} of ${load.distinct.toLocaleString('en-US')}, ${d.record.handledTwice} twice`,
        target: 'all, none twice',
        met: handledOnce,
      },
      {
        metric: 'CPU per receipt: daemon + Redis + emulator',
        value: `${us.daemon} + ${us.redis} + ${us.emulator} = ${us.total}`,
        unit: 'µs',
      },
      {
        metric: 'CPU per item: (a) client + emulator; (b) BullMQ process + Redis',
        value: `${a.cpuUsPerItem.process} + ${a.cpuUsPerItem.emulator}; ${b.cpuUsPerItem.process} + ${b.cpuUsPerItem.redis}`,
        unit: 'µs',
      },
      {
        metric: 'bound set by CPU cost on 2 idle cores (one per process): daemon, (b)',
        value: `${bound(us.total, us.daemon).toLocaleString('en-US')}, ${bound(b.cpuUsPerItem.total, b.cpuUsPerItem.process).toLocaleString('en-US')}`,
        unit: '/s',
      },
      { metric: 'daemon CPU', value: d.cpuPercent[0] ?? NaN, unit: '% of a core' },
      { metric: 'daemon peak RSS', value: d.peakRssMb[0] ?? NaN, unit: 'MB' },
      {
        metric: 'other load on the machine during daemon / (b) runs',
        value: `${others(d.cpu.othersMs, d.cpu.wallMs)}% / ${b.othersPercent}%`,
        unit: 'of a core',
      },
    ],
    details: {
      load: { messages, distinct: load.distinct, duplicates: load.duplicates },
      a,
      b: { ...b, settings: bSettings },
      c,
      daemon: { ...d, rssSamples: undefined },
    },
    notes: [
      `The baseline has no deduplication: it handled ${c.record.handledTwice} receipts twice.`,
      'The bound is the lower of 2 cores ÷ the CPU one receipt costs across the processes and 1 core ÷ what it costs the process doing the work (one JavaScript thread); the machine is shared, so measured rates fall below it.',
    ],
  };
}
