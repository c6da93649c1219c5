// What a run left in Redis, by kind: INFO memory's used_memory is read, each kind's keys are deleted, and
// the drop is that kind's share (its keys, values, expiry entries and allocator rounding). What no kind
// claims (hash-table slack that Redis has not shrunk yet, clients, other keys) is reported as the rest.
import type { Redis } from 'ioredis';
import { scriptNames } from './script-names.js';
import { sleep } from './system.js';

export interface Kind {
  readonly name: string;
  /** SCAN patterns of the kind's keys. */
  readonly patterns: readonly string[];
  /** How many items (records, entries, jobs) the kind holds, read before it is deleted. */
  readonly count?: (redis: Redis) => Promise<number>;
}

export interface KindBytes {
  readonly name: string;
  readonly keys: number;
  readonly bytes: number;
  readonly items?: number;
}

export interface Footprint {
  /** used_memory now minus the baseline read before the run. */
  readonly totalBytes: number;
  readonly kinds: readonly KindBytes[];
  /** The total minus what the kinds freed. */
  readonly restBytes: number;
}

export async function usedMemory(redis: Redis): Promise<number> {
  // Let lazy frees and the allocator's statistics settle first.
  await sleep(200);
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    // DEL, not UNLINK: the memory is freed before the next reading.
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Deletes the kinds one after the other (in the order given), measuring what each freed. */
export async function footprint(redis: Redis, baseline: number, kinds: readonly Kind[]): Promise<Footprint> {
  const start = await usedMemory(redis);
  const out: KindBytes[] = [];
  let before = start;
  for (const kind of kinds) {
    const items = kind.count ? await kind.count(redis) : undefined;
    let keys = 0;
    for (const p of kind.patterns) keys += await deleteMatching(redis, p);
    const after = await usedMemory(redis);
    out.push({ name: kind.name, keys, bytes: before - after, ...(items === undefined ? {} : { items }) });
    before = after;
  }
  const totalBytes = start - baseline;
  return { totalBytes, kinds: out, restBytes: totalBytes - out.reduce((s, k) => s + k.bytes, 0) };
}

/** Sum of XLEN over streams. */
export async function streamLength(redis: Redis, keys: readonly string[]): Promise<number> {
  let n = 0;
  for (const k of keys) n += await redis.xlen(k);
  return n;
}

/** Jobs BullMQ still holds in the completed and failed sets of these queues. */
export async function retainedJobs(redis: Redis, queueKeys: readonly string[]): Promise<number> {
  let n = 0;
  for (const q of queueKeys) n += (await redis.zcard(`${q}:completed`)) + (await redis.zcard(`${q}:failed`));
  return n;
}

/** INFO commandstats as µs and calls per command (commands run inside scripts count under their own name). */
export async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** The commands that cost Redis the most, per receipt: "evalsha 61.2 µs (2.1 calls)". */
export function topCommands(
  stats: Map<string, { calls: number; usec: number }>,
  receipts: number,
  n = 8,
): string[] {
  return [...stats]
    .sort((a, b) => b[1].usec - a[1].usec)
    .slice(0, n)
    .map(
      ([name, s]) =>
        `${name} ${(s.usec / receipts).toFixed(1)} µs (${(s.calls / receipts).toFixed(2)} calls)`,
    );
}

/** Socket reads Redis processed so far (INFO stats): each costs a syscall and an event-loop turn. */
export async function readsProcessed(redis: Redis): Promise<number> {
  return Number(/^total_reads_processed:(\d+)/m.exec(await redis.info('stats'))?.[1] ?? NaN);
}

/**
 * BENCH_REDIS_SCRIPTS=1: every command goes to SLOWLOG, so Redis time can be split by script. The log costs
 * Redis CPU itself, so runs with it on are for diagnosis, not for the figures.
 */
export const SCRIPT_LOG = process.env['BENCH_REDIS_SCRIPTS'] === '1';

export async function startScriptLog(redis: Redis): Promise<void> {
  await redis.config('SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '400000');
  await redis.slowlog('RESET');
}

/** Per script (by name where known) and other command: µs and calls per receipt, then the log is off. */
export async function stopScriptLog(redis: Redis, receipts: number): Promise<string[]> {
  const names = scriptNames();
  const entries = (await redis.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][];
  await redis.config('SET', 'slowlog-log-slower-than', '10000', 'slowlog-max-len', '128');
  await redis.slowlog('RESET');
  const by = new Map<string, { calls: number; usec: number }>();
  for (const [, , usec, args] of entries) {
    const cmd = (args[0] ?? '').toLowerCase();
    const key = cmd === 'evalsha' ? (names.get(args[1] ?? '') ?? `script ${args[1]?.slice(0, 8)}`) : cmd;
    const s = by.get(key) ?? { calls: 0, usec: 0 };
    s.calls += 1;
    s.usec += usec;
    by.set(key, s);
  }
  return topCommands(by, receipts, 30);
}
