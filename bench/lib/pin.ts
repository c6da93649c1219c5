// Gives redis-server a core of its own for a measurement, as a production Redis has its own host. On a
// small bench machine Redis otherwise shares cores with the daemon and the emulator, and the cache misses
// after each switch inflate its CPU time per command by a varying amount. Every process spawned by the
// bench while pinned (daemon, BullMQ child) inherits the bench's cores, the other ones.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** How the cores were split, for the report; undefined when nothing was pinned. */
  readonly described: string | undefined;
  restore(): void;
}

function setCores(pid: number, cores: string): void {
  // -a: every thread (Redis's background threads, Node's thread pool and GC helpers).
  execFileSync('taskset', ['-a', '-cp', cores, String(pid)], { stdio: 'ignore' });
}

/** Pins the redis-servers to core 0 and `others` (this process, the emulator) to the rest; a no-op on one core. */
export function pinRedis(redisPids: readonly number[], others: readonly number[]): Pinning {
  const n = availableParallelism();
  if (n < 2) return { described: undefined, restore: () => undefined };
  const all = `0-${n - 1}`;
  const rest = n === 2 ? '1' : `1-${n - 1}`;
  const pids = [process.pid, ...others];
  try {
    for (const pid of redisPids) setCores(pid, '0');
    for (const pid of pids) setCores(pid, rest);
  } catch {
    return { described: undefined, restore: () => undefined };
  }
  return {
    described: `redis-server${redisPids.length > 1 ? 's' : ''} alone on core 0, every other process on core${n === 2 ? '' : 's'} ${rest}`,
    restore: () => {
      for (const pid of [...redisPids, ...pids]) {
        try {
          setCores(pid, all);
        } catch {
          // The process is gone.
        }
      }
    },
  };
}
