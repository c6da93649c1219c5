// npm run bench [-- --quick] [-- --only drain,latency] [-- --profile]   (npm run bench:compare: bench/compare.ts)
//
// The benchmark suite: builds the daemon to JavaScript, starts a private Redis and the SMQ emulator
// as their own processes, then runs each scenario against the daemon started from the build with
// production settings, as its own process. Writes bench/results/<date>.json and bench/RESULTS.md.
// --quick runs smaller sizes and shorter windows (a smoke run; it writes <date>-quick.json only).
// --only runs some scenarios (no RESULTS.md). --profile starts daemons with --cpu-prof.
// --daemon-config '<json>' layers settings over the daemon's defaults (to try a change; no RESULTS.md).
// --node-args='<flags>' adds node flags after the production ones (to try a change; no RESULTS.md).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clusterScenario } from './cluster.js';
import { drainScenario } from './drain.js';
import { idleScenario, IDLE_QUEUES } from './idle.js';
import { ioBoundScenario } from './io-bound.js';
import { latencyScenario } from './latency.js';
import { memoryScenario } from './memory.js';
import { redisScenario } from './redis.js';
import { scaleOutScenario } from './scale-out.js';
import { serializeScenario } from './serialize.js';
import { batchScenario } from './batch.js';
import { buildDaemon } from './lib/build.js';
import { productionNodeArgs } from './lib/daemon-process.js';
import { startEmulatorProcess } from './lib/emulator-process.js';
import { BENCH_QUEUES } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import { machine, markdown, printScenario, type ScenarioResult } from './lib/report.js';
import { startRedis } from './lib/system.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  drain: drainScenario,
  'io-bound': ioBoundScenario,
  latency: latencyScenario,
  memory: memoryScenario,
  idle: idleScenario,
  'scale-out': scaleOutScenario,
  serialize: serializeScenario,
  batch: batchScenario,
  redis: redisScenario,
  cluster: clusterScenario,
};

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'daemon-config': { type: 'string' },
    'node-args': { type: 'string' },
  },
});

async function main(): Promise<void> {
  const started = performance.now();
  const only = args.only?.split(',').map(s => s.trim());
  for (const name of only ?? []) if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"`);
  const date = new Date().toISOString().slice(0, 10);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Built into a cache directory of its own: dist/ would change what bin/cams-receipts.js runs elsewhere.
  const buildDir = join(root, 'node_modules', '.cache', 'cams-receipts-bench', 'dist');
  const logDir = join(here, 'results', 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  const log = (line: string): void =>
    console.log(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);

  log('building the daemon (tsc)');
  buildDaemon(join(root, 'tsconfig.build.json'), buildDir);
  // Beside dist/, as in the package: the daemon reads its version from it.
  copyFileSync(join(root, 'package.json'), join(buildDir, '..', 'package.json'));
  const redis = await startRedis();
  const emulator = await startEmulatorProcess(buildDir, [...BENCH_QUEUES, ...IDLE_QUEUES]);
  log(`redis ${redis.url}, emulator ${emulator.endpoint}`);
  const ctx: BenchContext = {
    buildDir,
    redis,
    emulator,
    quick: args.quick ?? false,
    logDir,
    daemonExecArgv: [
      ...(args['node-args']?.split(/\s+/).filter(Boolean) ?? []),
      ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, 'profiles')}`] : []),
    ],
    daemonConfig: args['daemon-config']
      ? (JSON.parse(args['daemon-config']) as Record<string, unknown>)
      : undefined,
    log,
  };
  const results: ScenarioResult[] = [];
  try {
    for (const [name, run] of Object.entries(SCENARIOS)) {
      if (only && !only.includes(name)) continue;
      log(`scenario ${name}`);
      const result = await run(ctx);
      printScenario(result);
      results.push(result);
    }
  } finally {
    await emulator.stop();
    await redis.stop();
  }

  const seconds = (performance.now() - started) / 1000;
  const custom = ctx.daemonConfig !== undefined || args['node-args'] !== undefined;
  const partial = ctx.quick || only !== undefined || custom;
  const flags = [
    ...(ctx.quick ? ['--quick'] : []),
    ...(only ? ['--only', only.join(',')] : []),
    ...(args['daemon-config'] ? ['--daemon-config', `'${args['daemon-config']}'`] : []),
    ...(args['node-args'] ? [`--node-args='${args['node-args']}'`] : []),
  ];
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
  const m = machine();
  const report = {
    benchmark: 'cams-receipts',
    command,
    date: new Date().toISOString(),
    seconds: Math.round(seconds),
    machine: m,
    daemonNodeArgs: productionNodeArgs(),
    results,
  };
  const suffix = [ctx.quick ? 'quick' : '', only?.join('+') ?? '', custom ? 'custom' : '']
    .filter(Boolean)
    .join('-');
  const file = join(here, 'results', `${date}${suffix ? `-${suffix}` : ''}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  const md = markdown(results, {
    command,
    date,
    machine: `Node ${m['node']}, ${m['cpus']} × ${m['cpuModel']}`,
    seconds,
    daemonNodeArgs: productionNodeArgs(),
  });
  console.log(`\n${md}`);
  if (!partial) writeFileSync(join(here, 'RESULTS.md'), md);
  log(`wrote ${file}${partial ? '' : ' and bench/RESULTS.md'} (logs: ${logDir})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
