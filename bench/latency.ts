// Scenario 3, Latency: a constant offered load of 1,000 receipts/s for 60 s into SMQ while the daemon
// runs. Each receipt is stamped (BenchSentAtMs) just before it is sent to SMQ; the handler records the
// time from that stamp to its own start. The stamp precedes EnqueueTime by the send itself, so the
// figures slightly overstate the enqueue-to-handler latency. A 10 s warm-up at the same rate runs
// first and is not counted; each rate's latencies, in the order handlers started, go to the log directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiptFactory, encodeReceipt, type Receipt } from '../src/emulator/index.js';
import type { MessageType } from '../src/receipts/types.js';
import { BENCH_QUEUES, TYPE_MIX, inject, uniqueReceipt } from './lib/load.js';
import { cpuPercent, freshDaemon, handlerRecord, type BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { stageLatency, type StageLatency } from './lib/stages.js';
import { CpuWindow, percentile, sleep, waitFor } from './lib/system.js';

export const LATENCY_TARGET_P99_MS = 100;
const RATE = 1000;
const LOWER_RATE = 500;
const TICK_MS = 20;

/** Receipts for the whole run, made beforehand so the driver does little while it offers them. */
function makeReceipts(total: number): Map<string, Receipt[]> {
  const factory = new ReceiptFactory();
  return new Map(
    BENCH_QUEUES.map(q => {
      const type = q.messageType as MessageType;
      const count = Math.ceil(total * TYPE_MIX[type]) + 100;
      return [q.queueName, Array.from({ length: count }, () => uniqueReceipt(factory, type))];
    }),
  );
}

/** Sends `rate` receipts/s for `durationMs`, in ticks, spread over the queues by the type mix. */
async function offerLoad(
  ctx: BenchContext,
  rate: number,
  durationMs: number,
): Promise<{ sent: number; seconds: number }> {
  const receipts = makeReceipts((rate * durationMs) / 1000);
  const owedByQueue = new Map(BENCH_QUEUES.map(q => [q.queueName, 0]));
  const t0 = performance.now();
  let sent = 0;
  let last = t0;
  while (performance.now() - t0 < durationMs) {
    const now = performance.now();
    const due = ((now - last) / 1000) * rate;
    last = now;
    const sends: Promise<unknown>[] = [];
    for (const q of BENCH_QUEUES) {
      const owed = (owedByQueue.get(q.queueName) ?? 0) + due * TYPE_MIX[q.messageType as MessageType];
      const count = Math.floor(owed);
      owedByQueue.set(q.queueName, owed - count);
      const batch = receipts.get(q.queueName)?.splice(0, count) ?? [];
      if (batch.length === 0) continue;
      // Stamped at the moment of sending: the latency counts from here.
      const stamp = Date.now();
      sends.push(
        inject(
          ctx.emulator,
          q.queueName,
          batch.map(r => encodeReceipt({ ...r, BenchSentAtMs: stamp })),
        ),
      );
      sent += batch.length;
    }
    await Promise.all(sends);
    const spent = performance.now() - now;
    await sleep(Math.max(0, TICK_MS - spent));
  }
  return { sent, seconds: (performance.now() - t0) / 1000 };
}

interface RateResult {
  readonly rate: number;
  readonly stages: StageLatency;
  readonly offered: { sent: number; seconds: number };
  readonly window: ReturnType<CpuWindow['end']>;
  readonly smqRequestsPerSecond: number;
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly handledTwice: number;
}

/** Offers `rate`/s for `durationMs` to the running daemon, waits until SMQ is empty, reads the latencies. */
export async function measureAt(
  ctx: BenchContext,
  daemonPid: number,
  rate: number,
  durationMs: number,
  /** The latencies go to `<logName>-<rate>.txt` in the log directory. */
  logName = 'latency',
): Promise<RateResult> {
  await ctx.redis.client.del('bench:latency', 'bench:seen', 'bench:calls', 'bench:calls-by-pid');
  const cpuWindow = new CpuWindow({
    daemon: daemonPid,
    redis: ctx.redis.pid,
    emulator: ctx.emulator.pid,
    driver: process.pid,
  });
  const requests0 = (await ctx.emulator.stats()).requests;
  const startedAtMs = Date.now();
  ctx.log(`${logName}: offering ${rate}/s for ${durationMs / 1000} s`);
  const offered = await offerLoad(ctx, rate, durationMs);
  const window = cpuWindow.end();
  const requests = (await ctx.emulator.stats()).requests - requests0;
  const names = BENCH_QUEUES.map(q => q.queueName);
  await waitFor(
    async () => {
      const t = await ctx.emulator.totals(names);
      return t.left === 0 && t.deleted >= t.sent;
    },
    60_000,
    100,
  );
  const record = await handlerRecord(ctx.redis.client, 'bench', offered.sent);
  const inOrder = (await ctx.redis.client.lrange('bench:latency', 0, -1)).map(Number);
  // In the order handlers started, to see whether the tail is spread out or a few stalls.
  writeFileSync(join(ctx.logDir, `${logName}-${rate}.txt`), inOrder.join('\n') + '\n');
  const latencies = [...inOrder].sort((x, y) => x - y);
  return {
    rate,
    stages: await stageLatency(ctx.redis.client, '{cams}', startedAtMs),
    offered,
    window,
    smqRequestsPerSecond: Math.round(requests / offered.seconds),
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    max: latencies[latencies.length - 1] ?? NaN,
    handledTwice: record.handledTwice,
  };
}

function stageText(s: StageLatency): string {
  return [s.sendToEnqueue, s.enqueueToAdd, s.addToStart].map(([p50, p99]) => `${p50} / ${p99}`).join('; ');
}

function cpuBreakdown(w: ReturnType<CpuWindow['end']>): string {
  return ['daemon', 'redis', 'emulator', 'driver']
    .map(k => Math.round(((w.cpuMs[k] ?? 0) / w.wallMs) * 100))
    .concat(Math.round((w.othersMs / w.wallMs) * 100))
    .join(' / ');
}

export async function latencyScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = ctx.quick ? 15_000 : 60_000;
  const lowerDurationMs = ctx.quick ? 10_000 : 20_000;
  const warmupMs = ctx.quick ? 3_000 : 10_000;
  const daemon = await freshDaemon(ctx, 'latency');
  let main: RateResult;
  let lower: RateResult;
  let peakMb: number;
  try {
    await sleep(2000);
    // Not measured: the first seconds under load compile the hot paths and open the connections a
    // steady rate keeps (a backlog builds and drains). Run at the rate, drained, then measured afresh.
    await measureAt(ctx, daemon.pid, RATE, warmupMs);
    main = await measureAt(ctx, daemon.pid, RATE, durationMs);
    // For comparison: the same path with more CPU to spare.
    lower = await measureAt(ctx, daemon.pid, LOWER_RATE, lowerDurationMs);
    peakMb = daemon.memory().peakMb;
  } finally {
    await daemon.stop();
  }
  const pct = (w: ReturnType<CpuWindow['end']>, k: string): number => cpuPercent(w.cpuMs[k] ?? 0, w.wallMs);
  return {
    id: 'latency',
    title: 'Latency',
    parameters: {
      offeredPerSecond: RATE,
      durationSeconds: durationMs / 1000,
      warmupSeconds: warmupMs / 1000,
      achievedPerSecond: Math.round(main.offered.sent / main.offered.seconds),
      measured:
        'send to SMQ → handler start (receipts stamped when sent; sent in 20 ms ticks), after a warm-up at the same rate, drained and not counted',
      comparison: `${LOWER_RATE}/s for ${lowerDurationMs / 1000} s on the same daemon`,
      settings: 'production defaults (waitSeconds 30: long polls answer as messages arrive)',
    },
    figures: [
      { metric: 'p50', value: main.p50, unit: 'ms' },
      {
        metric: 'p99',
        value: main.p99,
        unit: 'ms',
        target: `≤ ${LATENCY_TARGET_P99_MS} ms`,
        met: main.p99 <= LATENCY_TARGET_P99_MS,
      },
      { metric: 'max', value: main.max, unit: 'ms' },
      {
        metric: `stages, p50 / p99 (last ${main.stages.jobs.toLocaleString('en-US')} jobs Redis keeps): send → SMQ enqueue; enqueue → BullMQ add; add → worker start`,
        value: stageText(main.stages),
        unit: 'ms',
      },
      { metric: 'receipts measured', value: main.samples },
      { metric: 'daemon CPU', value: pct(main.window, 'daemon'), unit: '% of a core' },
      {
        metric: 'CPU meanwhile: daemon / Redis / emulator / load driver / rest of the machine',
        value: cpuBreakdown(main.window),
        unit: '% of a core',
      },
      {
        metric: `at ${LOWER_RATE}/s: p50 / p99 / max`,
        value: `${lower.p50} / ${lower.p99} / ${lower.max}`,
        unit: 'ms',
      },
      { metric: `at ${LOWER_RATE}/s: daemon CPU`, value: pct(lower.window, 'daemon'), unit: '% of a core' },
    ],
    details: { main, lower, peakMb },
  };
}
