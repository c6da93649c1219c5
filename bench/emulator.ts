// npm run bench:emulator [-- --messages 30000 --rounds 5 --skip-in-process]
//
// How many messages per second the official @alicloud/mns client pushes through
// BatchReceiveMessage(16) + BatchDeleteMessage against the emulator, with 1 and 4 concurrent loops,
// next to the same client against a canned-reply server (the floor set by HTTP, the protocol and
// the client). Both servers carry the same mix of realistic CAMS receipts. The servers run in child
// processes, as the emulator does in real use, so they do not share the client's event loop; the
// in-process variant is measured too, for comparison. Canned and emulator runs are paired back to
// back in every round; the table shows the best round of each, the median, and the median ratio of
// the pairs (this machine is shared and noisy). Writes bench/results/emulator-<date>.json.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from '../src/emulator/index.js';
import { BENCH_TYPES, startCannedServer } from './lib/canned-server.js';

type Reply = { code: number; body: unknown };
interface MnsClient {
  batchReceiveMessage(queue: string, n: number, waitSeconds?: number): Promise<Reply>;
  batchDeleteMessage(queue: string, handles: string[]): Promise<Reply>;
}
type MnsCtor = new (accountId: string, opts: Record<string, string>) => MnsClient;
const MNSClient = createRequire(import.meta.url)('@alicloud/mns') as MnsCtor;

const here = dirname(fileURLToPath(import.meta.url));
const QUEUE = 'Alicom-Queue-1234567890123456-Bench';
const KEY = { accessKeyId: 'LTAI-emulator', accessKeySecret: 'emulator-secret' };
/** Receipt types per 16 messages, matching the canned reply (BENCH_TYPES round-robin). */
const MIX_PER_16 = [6, 5, 5];

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '5' },
    'skip-in-process': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(args.messages);
const ROUNDS = Number(args.rounds);

type Kind = 'emulator' | 'canned';
type Mode = 'child process' | 'in-process';

interface Target {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly port: number;
  /** CPU ms the server has used so far, when it runs in its own process. */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

interface Sample {
  messagesPerSecond: number;
  clientCpuPercent: number;
  serverCpuPercent: number | null;
}

async function postJson(port: number, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

async function preload(target: Target, n: number): Promise<void> {
  if (target.kind === 'canned') return;
  await postJson(target.port, '/_emulator/reset', {});
  let left = n;
  for (let t = 0; t < BENCH_TYPES.length; t += 1) {
    const count = t === BENCH_TYPES.length - 1 ? left : Math.round((n * (MIX_PER_16[t] as number)) / 16);
    left -= count;
    await postJson(target.port, '/_emulator/inject', {
      queueName: QUEUE,
      messageType: BENCH_TYPES[t],
      count,
    });
  }
}

async function forkServer(kind: Kind): Promise<Target> {
  const child = fork(join(here, 'lib/server-child.ts'), [kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(pick: (m: Record<string, unknown>) => T | undefined): Promise<T> =>
    new Promise(resolve => {
      const onMessage = (m: Record<string, unknown>): void => {
        const value = pick(m);
        if (value === undefined) return;
        child.off('message', onMessage);
        resolve(value);
      };
      child.on('message', onMessage);
    });
  const port = await next(m => (m['type'] === 'ready' ? (m['port'] as number) : undefined));
  return {
    kind,
    mode: 'child process',
    port,
    cpuMs: () => {
      const reply = next(m => {
        if (m['type'] !== 'cpu') return undefined;
        const u = m['usage'] as NodeJS.CpuUsage;
        return (u.user + u.system) / 1000;
      });
      child.send({ type: 'cpu' });
      return reply;
    },
    stop: async () => {
      child.send({ type: 'stop' });
      await new Promise(resolve => child.once('exit', resolve));
    },
  };
}

async function inProcess(kind: Kind): Promise<Target> {
  if (kind === 'emulator') {
    const emulator = await startEmulator({ port: 0, queues: { BenchStatus: QUEUE } });
    return {
      kind,
      mode: 'in-process',
      port: emulator.port,
      cpuMs: async () => undefined,
      stop: () => emulator.close(),
    };
  }
  const { server, port } = await startCannedServer();
  return {
    kind,
    mode: 'in-process',
    port,
    cpuMs: async () => undefined,
    stop: () =>
      new Promise(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One consumer loop: batch receive 16, batch delete them, until the queue is empty or the quota is reached. */
async function consume(client: MnsClient, state: { processed: number; quota: number }): Promise<void> {
  while (state.processed < state.quota) {
    let reply: Reply;
    try {
      reply = await client.batchReceiveMessage(QUEUE, 16);
    } catch (err) {
      if ((err as Error).name === 'MNSMessageNotExistError') return;
      throw err;
    }
    const messages = reply.body as Record<string, string>[];
    state.processed += messages.length;
    await client.batchDeleteMessage(
      QUEUE,
      messages.map(m => m['ReceiptHandle'] as string),
    );
  }
}

async function run(target: Target, loops: number, messages: number): Promise<Sample> {
  await preload(target, messages);
  const client = new MNSClient('1943695596114318', { endpoint: `http://127.0.0.1:${target.port}`, ...KEY });
  const state = { processed: 0, quota: messages };
  const serverCpu0 = await target.cpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, () => consume(client, state)));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverCpu1 = await target.cpuMs();
  if (state.processed < messages)
    throw new Error(`only ${state.processed} of ${messages} messages were received`);
  return {
    messagesPerSecond: Math.round(state.processed / (ms / 1000)),
    clientCpuPercent: round(((cpu.user + cpu.system) / 1000 / ms) * 100, 1),
    serverCpuPercent:
      serverCpu0 !== undefined && serverCpu1 !== undefined
        ? round(((serverCpu1 - serverCpu0) / ms) * 100, 1)
        : null,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

interface Row {
  server: Kind;
  mode: Mode;
  loops: number;
  best: Sample;
  medianMessagesPerSecond: number;
  rounds: number[];
  /** Median over rounds of emulator ÷ canned, each pair measured back to back. */
  ratioToCanned?: number;
}

/**
 * Canned and emulator runs are paired back to back within each round (alternating which goes
 * first), so each pair sees the same background load; the ratio is the median of the pairs.
 */
async function measureMode(mode: Mode): Promise<Row[]> {
  const targets = await Promise.all(
    (['canned', 'emulator'] as const).map(kind =>
      mode === 'child process' ? forkServer(kind) : inProcess(kind),
    ),
  );
  for (const target of targets) await run(target, 4, Math.min(10_000, MESSAGES)); // warm-up
  const rows: Row[] = [];
  for (const loops of [1, 4]) {
    const samples = new Map<Kind, Sample[]>([
      ['canned', []],
      ['emulator', []],
    ]);
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      const pair = new Map<Kind, Sample>();
      for (const target of order) pair.set(target.kind, await run(target, loops, MESSAGES));
      for (const [kind, sample] of pair) samples.get(kind)?.push(sample);
      ratios.push(
        (pair.get('emulator') as Sample).messagesPerSecond / (pair.get('canned') as Sample).messagesPerSecond,
      );
    }
    for (const [server, list] of samples) {
      const best = list.reduce((a, b) => (b.messagesPerSecond > a.messagesPerSecond ? b : a));
      const all = list.map(s => s.messagesPerSecond);
      const row: Row = { server, mode, loops, best, medianMessagesPerSecond: median(all), rounds: all };
      if (server === 'emulator') row.ratioToCanned = round(median(ratios), 2);
      rows.push(row);
    }
  }
  for (const target of targets) await target.stop();
  return rows;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  console.log(
    `emulator benchmark: ${MESSAGES} messages per run, best of ${ROUNDS} rounds, Node ${process.version}, ` +
      `${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)}`,
  );
  const rows = await measureMode('child process');
  if (!args['skip-in-process']) rows.push(...(await measureMode('in-process')));

  console.log('');
  console.log(
    '| server | runs as | loops | msgs/s (best) | median | ratio to canned (median of pairs) | client CPU % | server CPU % |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.mode} | ${r.loops} | ${r.best.messagesPerSecond.toLocaleString('en-US')} | ` +
        `${r.medianMessagesPerSecond.toLocaleString('en-US')} | ${r.ratioToCanned ?? '—'} | ` +
        `${r.best.clientCpuPercent} | ${r.best.serverCpuPercent ?? '—'} |`,
    );
  }

  const date = new Date().toISOString().slice(0, 10);
  const file = join(here, 'results', `emulator-${date}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const report = {
    benchmark: 'emulator',
    command: 'npm run bench:emulator',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg(),
    messagesPerRun: MESSAGES,
    rounds: ROUNDS,
    operation: 'BatchReceiveMessage(16) + BatchDeleteMessage, @alicloud/mns 1.2.0, mixed CAMS receipts',
    results: rows,
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
