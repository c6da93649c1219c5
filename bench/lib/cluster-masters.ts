// The masters of a local Redis Cluster as the benchmark measures them: each one's redis-server process (for
// its CPU time), the slots it serves, and which hash tags its keys carry after a run.
import { Redis } from 'ioredis';
import { nodeCommand } from '../../src/local/private-cluster.js';

export interface ClusterMaster {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly port: number;
  /** The redis-server process, whose CPU time /proc gives. */
  readonly pid: number;
  /** Slot ranges served, e.g. `0-5460`. */
  readonly slots: string;
}

type SlotRange = [from: number, to: number, master: [host: string, port: number], ...replicas: unknown[]];

/** Every master serving slots, as the node at `port` sees the cluster, in slot order. */
export async function clusterMasters(port: number): Promise<ClusterMaster[]> {
  const ranges = ((await nodeCommand(port, 'CLUSTER', 'SLOTS')) as SlotRange[]).sort((a, b) => a[0] - b[0]);
  const byPort = new Map<number, string[]>();
  for (const [from, to, [, masterPort]] of ranges) {
    byPort.set(masterPort, [...(byPort.get(masterPort) ?? []), `${from}-${to}`]);
  }
  return Promise.all(
    [...byPort].map(async ([masterPort, slots]) => {
      const info = String(await nodeCommand(masterPort, 'INFO', 'server'));
      const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1] ?? 0);
      if (!pid) throw new Error(`no process_id in INFO of 127.0.0.1:${masterPort}`);
      return { address: `127.0.0.1:${masterPort}`, port: masterPort, pid, slots: slots.join(',') };
    }),
  );
}

/** The keys a master holds, counted by hash tag (`{cams}`…): where a run's keys landed. */
export async function keysByHashTag(port: number): Promise<{ keys: number; tags: Record<string, number> }> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  const tags: Record<string, number> = {};
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        const tag = /\{[^}]*\}/.exec(key)?.[0] ?? '(no tag)';
        tags[tag] = (tags[tag] ?? 0) + 1;
        keys += 1;
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return { keys, tags };
}
