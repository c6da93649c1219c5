// Processes the benchmark runs beside the daemon: a private redis-server, and readings of another
// process's memory and CPU time from /proc (Linux), so the daemon is measured as its own process.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

import { freePort, PrivateRedisServer, REDIS_INSTALL_HINT } from '../../src/local/private-redis.js';

export { freePort };

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Polls `probe` every `everyMs` until it returns true; false when `timeoutMs` passed first. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return false;
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** A client for the benchmark's own reads and resets. */
  readonly client: Redis;
  /** Empties this private Redis between scenarios. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of our own on a free port, with persistence off, as the issue asks. */
export async function startRedis(): Promise<PrivateRedis> {
  if (!PrivateRedisServer.isInstalled()) {
    throw new Error(`redis-server is not installed (${REDIS_INSTALL_HINT})`);
  }
  const server = await PrivateRedisServer.start();
  const client = new Redis(server.url, { maxRetriesPerRequest: 3 });
  client.on('error', () => undefined);
  await client.ping();
  return {
    url: server.url,
    port: server.port,
    pid: server.pid,
    client,
    // Our own server, started above: flushing it touches nobody else's data.
    flush: async () => void (await client.flushall()),
    stop: async () => {
      client.disconnect();
      await server.destroy();
    },
  };
}

export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/** Resident memory now and its peak (VmRSS, VmHWM), in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: round(kb('VmRSS') / 1024, 1), peakMb: round(kb('VmHWM') / 1024, 1) };
}

/** Samples a process's RSS on a timer, keeping the series and the peak. */
export class RssSampler {
  readonly samples: { atMs: number; rssMb: number }[] = [];
  #timer?: NodeJS.Timeout;
  #peak = 0;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 250,
  ) {}

  start(): this {
    const t0 = Date.now();
    this.#timer = setInterval(() => {
      try {
        const { rssMb } = memoryOf(this.pid);
        this.#peak = Math.max(this.#peak, rssMb);
        this.samples.push({ atMs: Date.now() - t0, rssMb });
      } catch {
        // The process has exited.
      }
    }, this.everyMs);
    return this;
  }

  /** Stops sampling; returns the peak seen by polling and the kernel's own high-water mark. */
  stop(): { sampledPeakMb: number; hwmMb: number } {
    clearInterval(this.#timer);
    let hwmMb = this.#peak;
    try {
      hwmMb = memoryOf(this.pid).peakMb;
    } catch {
      // exited
    }
    return { sampledPeakMb: this.#peak, hwmMb };
  }
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Busy and total CPU time of the whole machine so far (from /proc/stat), in ms. */
export function machineCpuMs(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busyMs: ((total - idle) * 1000) / CLK_TCK, totalMs: (total * 1000) / CLK_TCK };
}

/**
 * CPU time of a set of processes over a window, plus what the rest of the machine used meanwhile
 * (other work on a shared machine makes throughput figures noisy; CPU per receipt much less so).
 */
export class CpuWindow {
  readonly #start: Map<string, number>;
  readonly #machine = machineCpuMs();
  readonly #t0 = performance.now();

  constructor(private readonly pids: Readonly<Record<string, number>>) {
    this.#start = new Map(Object.entries(pids).map(([name, pid]) => [name, safeCpu(pid)]));
  }

  /** CPU ms per process name, the rest of the machine (the benchmark driver included) and the wall time. */
  end(): { wallMs: number; cpuMs: Record<string, number>; othersMs: number } {
    const wallMs = performance.now() - this.#t0;
    const cpuMs: Record<string, number> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      cpuMs[name] = Math.round(safeCpu(pid) - (this.#start.get(name) ?? 0));
      ours += cpuMs[name] as number;
    }
    const machine = machineCpuMs();
    const busy = machine.busyMs - this.#machine.busyMs;
    return { wallMs: Math.round(wallMs), cpuMs, othersMs: Math.max(0, Math.round(busy - ours)) };
  }
}

function safeCpu(pid: number): number {
  try {
    return cpuMsOf(pid);
  } catch {
    return 0;
  }
}
