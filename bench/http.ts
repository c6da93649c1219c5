// npm run bench:http — the HTTP push receiver under load.
//
// A private redis-server (`--save "" --appendonly no`), the HTTP server with the daemon's pipeline in a
// child process, and autocannon in this process posting ChatAppStatus batches of distinct receipts.
// Two server configurations run in the same session: the receiver alone (role `poller`), and the receiver
// with BullMQ workers running a no-op handler in the same process (role `all`). Reports accepted
// receipts/s and reply latency at a fixed offered load and at saturation, CPU per receipt for the server
// and Redis, checks that every accepted receipt reached the handler exactly once (role `all`), and
// writes bench/results/http-<date>.json.
//
// Options: --duration <s> (per phase, default 15) --rate <receipts/s> (fixed load, default 1000)
//          --batch <receipts per request> (default 10) --connections <n> (saturation, default 64)
//          --mode receiver|all|both (default both: the receiver alone, as with role `poller`, and with
//          the workers in the same process, as with role `all`)
//          --group-commit <max receipts> (default 1000; 0 writes each push on its own)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createHttpServer } from '../src/http/server.js';
import { createLogger } from '../src/observability/logger.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { fixedHandlers } from '../src/pipeline/processor.js';
import { defaultDedupeKey } from '../src/receipts/dedupe.js';
import { parsedMessageFor } from '../src/receipts/inbound.js';
import { MESSAGE_TYPES } from '../src/receipts/types.js';
import { startRedis } from './lib/system.js';
import { standaloneRedis } from '../src/redis/options.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Histogram {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p99_9: number;
  readonly max: number;
  readonly average: number;
}

interface AutocannonResult {
  readonly duration: number;
  readonly latency: Histogram;
  readonly requests: Histogram & { readonly total: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
  readonly statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = require('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------------------
// The server side (child process): the pipeline with a no-op handler, and the HTTP receiver.

type ChildRequest = { type: 'stats' } | { type: 'stop' };

interface ServeOptions {
  readonly redisUrl: string;
  readonly receiverOnly: boolean;
  readonly groupCommit: number;
}

async function serve({ redisUrl, receiverOnly, groupCommit }: ServeOptions): Promise<void> {
  const handled = new Set<string>();
  let calls = 0;
  const noop = {
    name: 'noop',
    messageTypes: MESSAGE_TYPES,
    handle(_receipt: unknown, ctx: { dedupeKey: string }) {
      calls += 1;
      handled.add(ctx.dedupeKey);
    },
  };
  const logger = createLogger({ level: 'warn', format: 'json' }, process.stderr);
  const shutdown = new AbortController();
  // Production defaults: the configuration loaded from an empty config directory.
  const configDir = mkdtempSync(join(tmpdir(), 'cams-bench-http-config-'));
  const config = loadConfig({ cwd: configDir, configDir, env: {} });
  rmSync(configDir, { recursive: true, force: true });
  const pipeline = new Pipeline({
    redis: standaloneRedis(redisUrl, '{bench-http}'),
    config: config.pipeline,
    logger,
    shutdown: shutdown.signal,
    workers: receiverOnly
      ? undefined
      : {
          handlers: fixedHandlers({
            handlersFor: () => [noop],
            dedupeKeyFor: (_h, type, r) => defaultDedupeKey(type, r),
          }),
          types: MESSAGE_TYPES,
          parseInbound: r => parsedMessageFor('ChatAppInbound', r),
        },
  });
  await pipeline.waitUntilReady();
  const server = createHttpServer({
    config: { ...config.http, host: '127.0.0.1', port: 0 },
    sink: pipeline.sink,
    deadLetters: pipeline.deadLetters,
    logger,
    groupCommitMaxReceipts: groupCommit,
  });
  const { url } = await server.listen();
  // Event-loop delay since the previous stats request: how long a reply can wait behind other work.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  process.send?.({ type: 'ready', url });
  process.on('message', (message: ChildRequest) => {
    if (message.type === 'stats') {
      process.send?.({
        type: 'stats',
        calls,
        distinct: handled.size,
        cpu: process.cpuUsage(),
        rss: process.memoryUsage().rss,
        loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      });
      loopDelay.reset();
    } else if (message.type === 'stop') {
      void (async () => {
        await server.close();
        shutdown.abort();
        await pipeline.close();
        process.exit(0);
      })();
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// The load side (this process).

interface Stats {
  readonly calls: number;
  readonly distinct: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly rss: number;
  readonly loopDelayMs: { readonly p99: number; readonly max: number };
}

class ServerChild {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(opts: ServeOptions): Promise<ServerChild> {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', JSON.stringify(opts)];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', code => reject(new Error(`server child exited with ${code}`)));
      child.on('message', (m: { type: string; url?: string }) => {
        if (m.type === 'ready' && m.url) resolve(m.url);
      });
    });
    return new ServerChild(child, url);
  }

  stats(): Promise<Stats> {
    return new Promise(resolve => {
      const onMessage = (m: { type: string } & Stats) => {
        if (m.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(m);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise(resolve => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function usedUs(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

/** Busy and total jiffies over all cores, from /proc/stat (zeros where it does not exist). */
function machineCpu(): { busy: number; total: number } {
  let line = '';
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  } catch {
    return { busy: 0, total: 0 };
  }
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** redis-server's own CPU time so far (user + system), from INFO. */
function redisCpuUs(port: number): number {
  const info = spawnSync('redis-cli', ['-p', String(port), 'info', 'cpu']).stdout?.toString() ?? '';
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/** How long a phase may take after its load stops for the handler to see every accepted receipt. */
const DRAIN_LIMIT_MS = 120_000;

/** Every request carries `batch` receipts with MessageIds never used before in the run. */
function batchRequests(batch: number, runTag: string): AutocannonRequest[] {
  let seq = 0;
  const template: AutocannonRequest = {
    method: 'POST',
    path: '/appstatus',
    headers: { 'content-type': 'application/json' },
  };
  const setupRequest = (req: AutocannonRequest): AutocannonRequest => {
    const items = [];
    for (let i = 0; i < batch; i += 1) {
      seq += 1;
      items.push({
        MessageId: `${runTag}-${seq}`,
        TaskId: `${runTag}-task-${seq}`,
        From: '8613100000008',
        To: '8613800000008',
        Timestamp: Date.now(),
        Status: 'Delivered',
        StatusDescription: 'Delivered',
        MsgFrameType: 'template',
        Type: 'TEMPLATE',
        TemplateCode: '820561547132813184',
        TemplateName: 'wa_otp_v_0_0_3',
        Language: 'id',
      });
    }
    return { ...req, body: JSON.stringify(items) };
  };
  return [{ ...template, setupRequest } as AutocannonRequest];
}

interface PhaseResult {
  readonly phase: string;
  readonly connections: number;
  readonly offeredReceiptsPerSec: number | 'unbounded';
  readonly durationSec: number;
  readonly requests: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly acceptedReceipts: number;
  readonly acceptedReceiptsPerSec: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  readonly serverCpuPercent: number;
  /** CPU time per accepted receipt: less sensitive to a shared, noisy machine than the rates. */
  readonly serverCpuUsPerReceipt: number;
  readonly redisCpuPercent: number;
  readonly redisCpuUsPerReceipt: number;
  readonly loadGeneratorCpuPercent: number;
  /** All cores, all processes (this machine is shared): 100 means every core was busy. */
  readonly machineBusyPercent: number;
  readonly serverRssMb: number;
  /** The server's event-loop delay during the phase. */
  readonly serverLoopDelayMs: { readonly p99: number; readonly max: number };
  /** Every accepted receipt reached the no-op handler, none twice (checked after the phase). */
  readonly processedAll: boolean | 'not checked';
  /** Time after the phase until the handler had seen everything accepted. */
  readonly drainMs: number | null;
  /** Distinct receipts the handler saw, its calls, and the receipts accepted so far in the run. */
  readonly handled?: { readonly distinct: number; readonly calls: number; readonly accepted: number };
}

async function phase(
  server: ServerChild,
  name: string,
  opts: {
    connections: number;
    rate?: number;
    durationSec: number;
    batch: number;
    redisPort: number;
    expectAccepted: { total: number };
  },
  checkProcessed: boolean,
): Promise<PhaseResult> {
  const before = await server.stats();
  const redisBefore = redisCpuUs(opts.redisPort);
  const machineBefore = machineCpu();
  const loadBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: server.url,
    connections: opts.connections,
    duration: opts.durationSec,
    requests: batchRequests(opts.batch, `${name}-${Date.now()}`),
    ...(opts.rate ? { overallRate: opts.rate / opts.batch } : {}),
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = await server.stats();
  const redisUs = redisCpuUs(opts.redisPort) - redisBefore;
  const loadUs = usedUs(process.cpuUsage(loadBefore));
  const machine = machineCpu();
  const machineBusyPercent = Math.round(
    (100 * (machine.busy - machineBefore.busy)) / Math.max(1, machine.total - machineBefore.total),
  );
  const ok = result['2xx'];
  opts.expectAccepted.total += ok * opts.batch;
  let drainMs: number | null = null;
  let processedAll: boolean | 'not checked' = 'not checked';
  let handled: PhaseResult['handled'];
  if (checkProcessed) {
    const drainStart = Date.now();
    let latest = after;
    while (latest.distinct < opts.expectAccepted.total && Date.now() - drainStart < DRAIN_LIMIT_MS) {
      await new Promise(r => setTimeout(r, 100));
      latest = await server.stats();
    }
    // Requests still in flight when a phase ends are stored but not counted as accepted, so the handler
    // may see a few more receipts than were acknowledged; it must never see fewer, nor one twice.
    processedAll = latest.distinct >= opts.expectAccepted.total && latest.calls === latest.distinct;
    drainMs = processedAll ? Date.now() - drainStart : null;
    handled = { distinct: latest.distinct, calls: latest.calls, accepted: opts.expectAccepted.total };
  }
  const cpuUs = usedUs(after.cpu) - usedUs(before.cpu);
  return {
    phase: name,
    connections: opts.connections,
    offeredReceiptsPerSec: opts.rate ?? 'unbounded',
    durationSec: result.duration,
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    acceptedReceipts: ok * opts.batch,
    acceptedReceiptsPerSec: Math.round((ok * opts.batch) / result.duration),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
      mean: Math.round(result.latency.average * 100) / 100,
    },
    serverCpuPercent: Math.round((cpuUs / 1000 / wallMs) * 100),
    serverCpuUsPerReceipt: ok > 0 ? Math.round(cpuUs / (ok * opts.batch)) : 0,
    redisCpuPercent: Math.round((redisUs / 1000 / wallMs) * 100),
    redisCpuUsPerReceipt: ok > 0 ? Math.round(redisUs / (ok * opts.batch)) : 0,
    loadGeneratorCpuPercent: Math.round((loadUs / 1000 / wallMs) * 100),
    machineBusyPercent,
    serverRssMb: Math.round(after.rss / 1024 / 1024),
    serverLoopDelayMs: { p99: round1(after.loopDelayMs.p99), max: round1(after.loopDelayMs.max) },
    processedAll,
    drainMs,
    handled,
  };
}

function table(rows: readonly PhaseResult[]): string {
  const head =
    '| Phase | Offered receipts/s | Conns | Accepted receipts/s | p50 ms | p99 ms | max ms | non-2xx | errors | Server CPU (µs/receipt) | Redis CPU (µs/receipt) | Server loop delay p99 ms | Load gen CPU | Machine busy | Accepted all handled once |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map(
    r =>
      `| ${r.phase} | ${r.offeredReceiptsPerSec} | ${r.connections} | ${r.acceptedReceiptsPerSec} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} | ${r.non2xx} | ${r.errors} | ${r.serverCpuPercent}% (${r.serverCpuUsPerReceipt}) | ${r.redisCpuPercent}% (${r.redisCpuUsPerReceipt}) | ${r.serverLoopDelayMs.p99} | ${r.loadGeneratorCpuPercent}% | ${r.machineBusyPercent}% | ${r.processedAll} |`,
  );
  return [head, sep, ...lines].join('\n');
}

type Mode = 'receiver' | 'all';

const MODE_DESCRIPTION: Readonly<Record<Mode, string>> = {
  receiver: 'HTTP receiver + BullMQ producer, no workers (role `poller`; workers run elsewhere)',
  all: 'HTTP receiver + BullMQ workers (concurrency 64, no-op handler) in one process (role `all`)',
};

interface RunSettings {
  readonly durationSec: number;
  readonly rate: number;
  readonly batch: number;
  readonly connections: number;
  readonly groupCommit: number;
}

/** One server configuration on a fresh Redis: warm-up, the fixed offered load, then saturation. */
async function runMode(mode: Mode, settings: RunSettings): Promise<PhaseResult[]> {
  const { durationSec, rate, batch, connections, groupCommit } = settings;
  const redis = await startRedis();
  let server: ServerChild | undefined;
  try {
    server = await ServerChild.start({ redisUrl: redis.url, receiverOnly: mode === 'receiver', groupCommit });
    console.log(`${mode}: ${MODE_DESCRIPTION[mode]}`);
    const accepted = { total: 0 };
    const check = mode === 'all';
    const common = { batch, redisPort: redis.port, expectAccepted: accepted };
    await phase(server, `${mode}: warm-up`, { ...common, connections: 16, durationSec: 3 }, check);
    const fixed = await phase(
      server,
      `${mode}: fixed load`,
      { ...common, connections: 16, rate, durationSec },
      check,
    );
    const saturation = await phase(
      server,
      `${mode}: saturation`,
      { ...common, connections, durationSec },
      check,
    );
    console.log(table([fixed, saturation]));
    return [fixed, saturation];
  } finally {
    await server?.stop();
    await redis.stop();
  }
}

function targetsFor(rows: readonly PhaseResult[], rate: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of rows) {
    const [mode, phaseName] = row.phase.split(': ');
    if (phaseName === 'fixed load') {
      out[`${mode}: p99 < 100 ms at 1,000 receipts/s`] =
        rate === 1000 ? row.latencyMs.p99 < 100 : 'not run at 1,000/s';
    } else {
      out[`${mode}: >= 8,000 receipts/s accepted at saturation`] = row.acceptedReceiptsPerSec >= 8000;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '15' },
      rate: { type: 'string', default: '1000' },
      batch: { type: 'string', default: '10' },
      connections: { type: 'string', default: '64' },
      mode: { type: 'string', default: 'both' },
      'group-commit': { type: 'string', default: '1000' },
    },
  });
  const settings: RunSettings = {
    durationSec: Number(values.duration),
    rate: Number(values.rate),
    batch: Number(values.batch),
    connections: Number(values.connections),
    groupCommit: Number(values['group-commit']),
  };
  const modes: Mode[] = values.mode === 'both' ? ['receiver', 'all'] : [values.mode as Mode];
  if (!modes.every(m => m in MODE_DESCRIPTION)) throw new Error('--mode must be receiver, all or both');
  const command = `npm run bench:http${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`${settings.durationSec} s per phase, batches of ${settings.batch} ChatAppStatus receipts`);

  const rows: PhaseResult[] = [];
  for (const mode of modes) rows.push(...(await runMode(mode, settings)));
  const targets = targetsFor(rows, settings.rate);
  const report = {
    bench: 'http',
    date: new Date().toISOString(),
    command,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    parameters: {
      durationSecPerPhase: settings.durationSec,
      batchReceipts: settings.batch,
      fixedRateReceiptsPerSec: settings.rate,
      fixedLoadConnections: 16,
      saturationConnections: settings.connections,
      groupCommitMaxReceipts: settings.groupCommit,
      messageType: 'ChatAppStatus',
      redis: 'private redis-server --save "" --appendonly no, fresh per mode',
      modes: Object.fromEntries(modes.map(m => [m, `child process: ${MODE_DESCRIPTION[m]}`])),
      loadGenerator: 'autocannon 8 in the parent process',
    },
    results: rows,
    targets,
  };
  const out = join(here, 'results', `http-${new Date().toISOString().slice(0, 10)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${table(rows)}\n`);
  for (const [name, met] of Object.entries(targets))
    console.log(`${met === true ? 'met ' : 'MISS'}  ${name}`);
  console.log(`written ${out}`);
}

if (process.argv[2] === 'serve') {
  void serve(JSON.parse(process.argv[3] ?? '{}') as ServeOptions);
} else {
  main().catch(err => {
    console.error(err);
    process.exitCode = 1;
  });
}
