// Scenario cluster: the daemon on a local 3-master Redis Cluster, against the same load on one standalone
// Redis of its own, in the same run. Reports receipts/s, Redis CPU per receipt (each redis-server process's
// CPU time from /proc) and each master's share of it, and which hash tags each master's keys carry, so it
// shows how evenly the work spreads over the masters.
import { PrivateRedisCluster } from '../src/local/private-cluster.js';
import { PrivateRedisServer } from '../src/local/private-redis.js';
import { clusterMasters, keysByHashTag, type ClusterMaster } from './lib/cluster-masters.js';
import { runDaemon, type DaemonRunResult } from './lib/daemon-run.js';
import { BENCH_QUEUES, TYPE_MIX, buildLoad, type Load } from './lib/load.js';
import type { BenchContext } from './lib/measure.js';
import type { Figure, ScenarioResult } from './lib/report.js';
import { round } from './lib/system.js';

const TIMEOUT_MS = 180_000;
/** Two hash tags per master: with 3 tags the slot hashes rarely land one on each of 3 masters. */
const PARTITIONS = 6;

interface MasterReading extends ClusterMaster {
  readonly cpuMs: number;
  readonly usPerReceipt: number;
  /** Of the CPU all the masters used, %. */
  readonly sharePercent: number;
  readonly keys: number;
  readonly tags: Record<string, number>;
}

/** The CPU µs per receipt of the named processes in a run. */
function usPerReceipt(run: DaemonRunResult, names: readonly string[]): number {
  const ms = names.reduce((sum, name) => sum + (run.cpu.cpuMs[name] ?? 0), 0);
  return Math.round((ms * 1000) / Math.max(1, run.watch.messages));
}

async function onCluster(
  ctx: BenchContext,
  load: Load,
): Promise<{ run: DaemonRunResult; masters: MasterReading[] }> {
  const cluster = await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
  try {
    const masters = await clusterMasters(Number(cluster.nodes[0]?.split(':')[1]));
    const run = await runDaemon(ctx, {
      name: 'cluster-3-masters',
      queues: BENCH_QUEUES,
      load,
      redis: { cluster: { nodes: cluster.nodes }, partitions: PARTITIONS },
      pids: Object.fromEntries(masters.map(m => [m.address, m.pid])),
      timeoutMs: TIMEOUT_MS,
    });
    const totalMs = masters.reduce((sum, m) => sum + (run.cpu.cpuMs[m.address] ?? 0), 0);
    const readings = await Promise.all(
      masters.map(async m => {
        const cpuMs = run.cpu.cpuMs[m.address] ?? 0;
        return {
          ...m,
          cpuMs,
          usPerReceipt: usPerReceipt(run, [m.address]),
          sharePercent: round((cpuMs / Math.max(1, totalMs)) * 100, 1),
          ...(await keysByHashTag(m.port)),
        };
      }),
    );
    return { run, masters: readings };
  } finally {
    await cluster.destroy();
  }
}

async function onStandalone(ctx: BenchContext, load: Load): Promise<DaemonRunResult> {
  const server = await PrivateRedisServer.start();
  try {
    return await runDaemon(ctx, {
      name: 'cluster-standalone',
      queues: BENCH_QUEUES,
      load,
      redis: { url: server.url },
      pids: { standalone: server.pid },
      timeoutMs: TIMEOUT_MS,
    });
  } finally {
    await server.destroy();
  }
}

function masterFigures(masters: readonly MasterReading[]): Figure[] {
  return masters.map(m => ({
    metric: `master ${m.address} (slots ${m.slots})`,
    value:
      `${m.usPerReceipt} µs/receipt, ${m.sharePercent}% of the masters' CPU, ` +
      `${m.keys.toLocaleString('en-US')} keys${tagsText(m.tags)}`,
  }));
}

/** `: {cams} 28,516` for a few hash tags, `in 12 hash tags` for many. */
function tagsText(tags: Record<string, number>): string {
  const entries = Object.entries(tags).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '';
  if (entries.length > 3) return ` in ${entries.length} hash tags`;
  return `: ${entries.map(([tag, n]) => `${tag} ${n.toLocaleString('en-US')}`).join(', ')}`;
}

export async function clusterScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 10_000 : 40_000;
  const load = buildLoad(messages, 0.05);
  ctx.log(`cluster: ${messages} messages on a 3-master Redis Cluster`);
  const { run: many, masters } = await onCluster(ctx, load);
  ctx.log(`  ${many.watch.receiptsPerSecond}/s`);
  ctx.log(`cluster: the same load on one standalone Redis`);
  const one = await onStandalone(ctx, load);
  ctx.log(`  ${one.watch.receiptsPerSecond}/s`);
  const ok = (r: DaemonRunResult): boolean =>
    r.watch.emptied && r.record.distinct === load.distinct && r.record.handledTwice === 0;
  const clusterUs = usPerReceipt(
    many,
    masters.map(m => m.address),
  );
  const standaloneUs = usPerReceipt(one, ['standalone']);
  const busiest = Math.max(...masters.map(m => m.sharePercent));
  return {
    id: 'cluster',
    title: 'Cluster',
    parameters: {
      messages,
      distinctReceipts: load.distinct,
      duplicateMessages: load.duplicates,
      mix: Object.entries(TYPE_MIX)
        .map(([t, s]) => `${t} ${Math.round(s * 100)}%`)
        .join(', '),
      cluster: '3 masters, no replicas, local redis-server processes, persistence off',
      partitions: `${PARTITIONS} on the cluster (redis.partitions), 1 on the standalone Redis`,
      comparison: 'the same load on one standalone redis-server of its own',
      handler: 'no-op (records keys in the benchmark Redis, outside the measured servers)',
    },
    figures: [
      { metric: 'cluster', value: many.watch.receiptsPerSecond, unit: 'receipts/s' },
      { metric: 'standalone', value: one.watch.receiptsPerSecond, unit: 'receipts/s' },
      {
        metric: 'cluster ÷ standalone',
        value: round(many.watch.receiptsPerSecond / one.watch.receiptsPerSecond, 2),
      },
      { metric: 'Redis CPU, all masters', value: clusterUs, unit: 'µs/receipt' },
      { metric: 'Redis CPU, standalone', value: standaloneUs, unit: 'µs/receipt' },
      {
        metric: 'daemon CPU (cluster / standalone)',
        value: `${usPerReceipt(many, ['daemon1'])} / ${usPerReceipt(one, ['daemon1'])}`,
        unit: 'µs/receipt',
      },
      ...masterFigures(masters),
      { metric: "busiest master's share of the masters' Redis CPU", value: busiest, unit: '%' },
      {
        metric: 'handled twice (cluster / standalone)',
        value: `${many.record.handledTwice} / ${one.record.handledTwice}`,
        target: '0, every receipt handled',
        met: ok(many) && ok(one),
      },
    ],
    details: {
      cluster: { ...many, rssSamples: undefined, masters },
      standalone: { ...one, rssSamples: undefined },
    },
    notes: [
      'Each partition is a hash tag of its own; the cluster places each tag on the master owning its slot. An even spread is 33% each.',
      'Both runs share 2 cores with the emulator, the daemon and the load driver: compare CPU per receipt.',
    ],
  };
}
