// Scenario serialize: what `serializeBy` costs. The same backlog drained by a no-op handler without and with
// `serializeBy: MessageId` (a message's statuses wait for each other across the 256 slots), then the same
// constant offered load's send→handler latency without and with it, all in this run.
import { measureAt } from './latency.js';
import { runDaemon } from './lib/daemon-run.js';
import { startDaemon, writeDaemonConfig } from './lib/daemon-process.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import { logFile, resetAll, type BenchContext } from './lib/measure.js';
import type { ScenarioResult } from './lib/report.js';
import { round, sleep } from './lib/system.js';

// Below what one process drains on a busy 2-core machine, so the figures are latency, not backlog.
const RATE = 300;

/** p50/p99 send→handler latency of a daemon with these handler options, after a warm-up at the rate. */
async function latencyWith(ctx: BenchContext, handler: Record<string, unknown>, name: string) {
  await resetAll(ctx);
  const configDir = writeDaemonConfig({
    emulator: ctx.emulator,
    redisUrl: ctx.redis.url,
    queues: BENCH_QUEUES,
    handler: { prefix: 'bench', ...handler },
    extra: ctx.daemonConfig,
  });
  const daemon = await startDaemon(ctx.buildDir, configDir, {
    logFile: logFile(ctx, name),
    execArgv: ctx.daemonExecArgv,
  });
  try {
    await sleep(2000);
    await measureAt(ctx, daemon.pid, RATE, ctx.quick ? 3_000 : 8_000);
    return await measureAt(ctx, daemon.pid, RATE, ctx.quick ? 10_000 : 30_000);
  } finally {
    await daemon.stop();
  }
}

export async function serializeScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 15_000 : 60_000;
  const drain = async (name: string, handler: Record<string, unknown>) => {
    ctx.log(`serialize: drain ${name}`);
    const run = await runDaemon(ctx, {
      name,
      queues: BENCH_QUEUES,
      load: buildLoad(messages, 0),
      handler,
      timeoutMs: 240_000,
    });
    ctx.log(`  ${run.watch.receiptsPerSecond}/s, handled twice ${run.record.handledTwice}`);
    return run;
  };
  const off = await drain('serialize-off', {});
  const on = await drain('serialize-on', { serializeBy: true });
  ctx.log('serialize: latency without, then with serializeBy');
  const latOff = await latencyWith(ctx, {}, 'serialize-latency-off');
  const latOn = await latencyWith(ctx, { serializeBy: true }, 'serialize-latency-on');
  const ratio = (a: number, b: number): number => round(a / b, 2);
  return {
    id: 'serialize',
    title: 'serializeBy',
    parameters: {
      backlog: messages,
      handler: 'no-op; serializeBy: MessageId (audit: WabaId) when on',
      latencyRate: `${RATE}/s, send → handler start, after a warm-up at the same rate`,
      settings: 'production defaults (256 slots per type), 1 process',
    },
    figures: [
      { metric: 'drain, without', value: off.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: 'drain, with serializeBy', value: on.watch.receiptsPerSecond, unit: 'receipts/s' },
      {
        metric: 'drain with ÷ without',
        value: ratio(on.watch.receiptsPerSecond, off.watch.receiptsPerSecond),
      },
      { metric: 'p99, without', value: latOff.p99, unit: 'ms' },
      { metric: 'p99, with serializeBy', value: latOn.p99, unit: 'ms' },
      { metric: 'p50 without / with', value: `${latOff.p50} / ${latOn.p50}`, unit: 'ms' },
      { metric: 'handled twice (with)', value: on.record.handledTwice + latOn.handledTwice },
    ],
    details: { drainOff: off.watch, drainOn: on.watch, latencyOff: latOff, latencyOn: latOn },
  };
}
