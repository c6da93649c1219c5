// npm run bench:compare -- <git-ref> [--runs 3] [--messages 40000] [--daemon-config '<json>']
//
// Drains the same backlog with the daemon built from <git-ref> and from the working tree, interleaved
// (ref, tree, ref, tree, …) on one Redis and one emulator, and prints each run and the medians. On a
// shared machine whose speed drifts from minute to minute, this is the comparison to trust: two
// separate `npm run bench` runs can differ by more than the change being measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDaemon } from './lib/build.js';
import { runDaemon, type DaemonRunResult } from './lib/daemon-run.js';
import { startEmulatorProcess } from './lib/emulator-process.js';
import { BENCH_QUEUES, buildLoad } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import { startRedis } from './lib/system.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cache = join(root, 'node_modules', '.cache', 'cams-receipts-compare');

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '40000' },
    'daemon-config': { type: 'string' },
  },
});

/** Builds `ref` from its own sources, unpacked under node_modules so its imports resolve to ours. */
function buildRef(ref: string): { label: string; buildDir: string } {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).trim();
  const tree = join(cache, `src-${sha}`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const archive = spawnSync('git', ['archive', sha, 'src', 'tsconfig.json', 'tsconfig.build.json'], {
    cwd: root,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${String(archive.stderr)}`);
  const untar = spawnSync('tar', ['-x', '-C', tree], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`could not unpack ${ref}: ${String(untar.stderr)}`);
  const buildDir = join(cache, `dist-${sha}`);
  buildDaemon(join(tree, 'tsconfig.build.json'), buildDir);
  return { label: `${ref} (${sha})`, buildDir };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function summary(r: DaemonRunResult): string {
  const us = r.cpuUsPerReceipt;
  const check = r.record.handledTwice === 0 ? 'none twice' : `${r.record.handledTwice} TWICE`;
  return `${r.watch.receiptsPerSecond} receipts/s, CPU ${us.daemon} + ${us.redis} + ${us.emulator} = ${us.total} µs/receipt, ${check}`;
}

async function main(): Promise<void> {
  const ref = positionals[0];
  if (!ref) throw new Error('usage: npm run bench:compare -- <git-ref> [--runs 3] [--messages 40000]');
  const runs = Number(args.runs);
  const messages = Number(args.messages);
  const variants = [buildRef(ref), { label: 'working tree', buildDir: join(cache, 'dist-tree') }];
  buildDaemon(join(root, 'tsconfig.build.json'), variants[1]!.buildDir);
  const redis = await startRedis();
  const emulator = await startEmulatorProcess(variants[1]!.buildDir, BENCH_QUEUES);
  const logDir = join(here, 'results', 'logs', `compare-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const results = variants.map(() => [] as DaemonRunResult[]);
  try {
    for (let i = 0; i < runs; i++) {
      for (const [k, v] of variants.entries()) {
        const ctx: BenchContext = {
          buildDir: v.buildDir,
          redis,
          emulator,
          quick: false,
          logDir,
          daemonExecArgv: [],
          daemonConfig: args['daemon-config']
            ? (JSON.parse(args['daemon-config']) as Record<string, unknown>)
            : undefined,
          log: () => undefined,
        };
        const load = buildLoad(messages, 0.05);
        const r = await runDaemon(ctx, {
          name: `compare-${k}`,
          queues: BENCH_QUEUES,
          load,
          timeoutMs: 300_000,
        });
        results[k]!.push(r);
        console.log(`run ${i + 1}, ${v.label}: ${summary(r)}`);
      }
    }
  } finally {
    await emulator.stop();
    await redis.stop();
  }
  console.log(
    `\n${messages.toLocaleString('en-US')} receipts per drain, ${runs} interleaved runs each; medians:`,
  );
  for (const [k, v] of variants.entries()) {
    const rs = results[k]!;
    const rate = median(rs.map(r => r.watch.receiptsPerSecond));
    const cpu = median(rs.map(r => r.cpuUsPerReceipt.total));
    console.log(`  ${v.label}: ${rate} receipts/s, ${cpu} µs CPU per receipt`);
  }
  const wins = results[1]!.filter(
    (r, i) => r.watch.receiptsPerSecond > (results[0]![i]?.watch.receiptsPerSecond ?? Infinity),
  );
  console.log(`  the working tree was faster in ${wins.length} of ${runs} pairs`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
