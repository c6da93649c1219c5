import { randomUUID } from 'node:crypto';
import type { Handler } from '../contracts/handler.js';
import { PermanentError } from '../errors.js';
import { receiptType, type AnyReceipt, type MessageType } from '../receipts/types.js';
import type { RedisClient } from '../redis/connection.js';
import { errorMessage } from '../util/error-message.js';
import type { ReceiptJobData } from './job.js';
import type { ReceiptQueues } from './queues.js';
import { TurnBatcher } from '../util/turn-batcher.js';

// For each (lease, waiters) pair: takes the key's lease when it is free, already ours, or reserved for us;
// otherwise joins the key's waiters (a sorted set by rank, then arrival) and answers how long the lease has
// left. KEYS = lease1, waiters1, …; ARGV = member1, leaseMs1, score1, waitersTtlMs1, …. -1 means taken.
const ENTER = `
local out = {}
for i = 1, #KEYS / 2 do
  local lease, waiters, a = KEYS[2 * i - 1], KEYS[2 * i], 4 * i - 3
  local member = ARGV[a]
  local holder = redis.call('GET', lease)
  if (not holder) or holder == member or holder == 'r:' .. member then
    redis.call('SET', lease, member, 'PX', ARGV[a + 1])
    redis.call('ZREM', waiters, member)
    out[i] = -1
  else
    redis.call('ZADD', waiters, ARGV[a + 2], member)
    redis.call('PEXPIRE', waiters, ARGV[a + 3])
    out[i] = redis.call('PTTL', lease)
  end
end
return out`;

// For each pair: lets the lease go if still ours, handing it to the best-ranked waiter (reserved for a while,
// so no newcomer slips in first). KEYS = lease1, waiters1, …; ARGV = reserveMs, member1, …. Answers each
// pair's new holder, or '' when none waits.
const LEAVE = `
local out = {}
for i = 1, #KEYS / 2 do
  local lease, waiters, member = KEYS[2 * i - 1], KEYS[2 * i], ARGV[i + 1]
  out[i] = ''
  if redis.call('GET', lease) == member then
    local head = redis.call('ZPOPMIN', waiters)
    if head[1] then
      redis.call('SET', lease, 'r:' .. head[1], 'PX', ARGV[1])
      out[i] = head[1]
    else
      redis.call('DEL', lease)
    end
  end
end
return out`;

interface SerialCommands {
  camsSerialEnter(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  camsSerialLeave(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]>;
}

interface Entering {
  readonly hold: SerialHold;
  readonly leaseMs: number;
  readonly score: number;
}

/** A waiter re-checks at least this often, in case the wake-up (a promotion of its delayed job) was missed. */
export const SERIAL_RECHECK_MS = 1000;
/** How long a lease handed to a waiter stays reserved for it. */
const RESERVE_MS = 10_000;
/** Ranks are spread this far apart in a waiter's score; the arrival time (epoch ms) fills the gap. */
const RANK_SPAN = 1e13;

/** A receipt's place in the line of one key. */
export interface SerialEntry {
  readonly handler: string;
  readonly key: string;
  readonly messageType: MessageType;
  readonly jobId?: string;
  readonly receipt: AnyReceipt;
  readonly originTimeMs: number;
}

/** A lease this attempt holds; given back with `leave`. */
export interface SerialHold {
  readonly lease: string;
  readonly waiters: string;
  readonly member: string;
}

export type SerialEnter =
  | { readonly state: 'entered'; readonly hold: SerialHold }
  | { readonly state: 'wait'; readonly retryInMs: number };

/** Wakes a waiting job (promotes it from BullMQ's delayed set); false when it could not. */
export type WakeJob = (messageType: MessageType, jobId: string) => Promise<boolean>;

/**
 * Per-key leases for handlers with `serializeBy`: one receipt per (handler, key) at a time across every slot,
 * process and host. A receipt that finds the key taken waits in BullMQ's delayed set (no attempt spent) and is
 * woken when the key is let go, best rank first.
 */
export class SerialLeases {
  private readonly commands: SerialCommands;
  // Jobs start and finish in bursts: their enters, and their leaves, share one script call per turn.
  private readonly enters = new TurnBatcher<Entering, number>(batch => this.sendEnters(batch));
  private readonly leaves = new TurnBatcher<SerialHold, string>(batch => this.sendLeaves(batch));

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly wake: WakeJob,
  ) {
    redis.defineCommand('camsSerialEnter', { lua: ENTER });
    redis.defineCommand('camsSerialLeave', { lua: LEAVE });
    this.commands = redis as unknown as SerialCommands;
  }

  async enter(entry: SerialEntry, leaseMs: number): Promise<SerialEnter> {
    const base = `${this.prefix}:serial:${entry.handler}:${entry.key}`;
    const member = entry.jobId ? `${entry.messageType}|${entry.jobId}` : `-|${randomUUID()}`;
    const rank = receiptType(entry.messageType).rank?.(entry.receipt) ?? 0;
    const score = rank * RANK_SPAN + entry.originTimeMs;
    const hold = { lease: base, waiters: `${base}:q`, member };
    const left = await this.enters.add({ hold, leaseMs, score });
    if (left === -1) return { state: 'entered', hold };
    return { state: 'wait', retryInMs: Math.min(SERIAL_RECHECK_MS, Math.max(10, left)) };
  }

  /** Gives the leases back and wakes the next waiter of each. Never throws: an unreleased lease lapses. */
  async leave(holds: readonly SerialHold[]): Promise<void> {
    let next: string[];
    try {
      next = await this.leaves.addAll(holds);
    } catch {
      return;
    }
    await Promise.all(next.filter(n => n !== '').map(n => this.wakeMember(n).catch(() => undefined)));
  }

  private async wakeMember(member: string): Promise<void> {
    const bar = member.indexOf('|');
    const type = member.slice(0, bar);
    if (type !== '-') await this.wake(type as MessageType, member.slice(bar + 1));
  }

  private async sendEnters(batch: readonly Entering[]): Promise<number[]> {
    const keys = batch.flatMap(e => [e.hold.lease, e.hold.waiters]);
    const args = batch.flatMap(e => [e.hold.member, e.leaseMs, e.score, 2 * e.leaseMs]);
    return this.answers(await this.commands.camsSerialEnter(keys.length, ...keys, ...args), batch.length);
  }

  private async sendLeaves(batch: readonly SerialHold[]): Promise<string[]> {
    const keys = batch.flatMap(h => [h.lease, h.waiters]);
    const out = await this.commands.camsSerialLeave(
      keys.length,
      ...keys,
      RESERVE_MS,
      ...batch.map(h => h.member),
    );
    return this.answers(out, batch.length);
  }

  private answers<T>(out: T[], expected: number): T[] {
    if (out.length !== expected) throw new Error(`serial script answered ${out.length} of ${expected}`);
    return out;
  }
}

/**
 * The handler's serialisation key for a receipt, or undefined when it does not serialise.
 * @throws PermanentError when `serializeBy` throws or returns no usable string (retrying cannot help).
 */
export function serialKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string | undefined {
  if (!handler.serializeBy) return undefined;
  let key: unknown;
  try {
    key = handler.serializeBy(receipt, type);
  } catch (err) {
    throw new PermanentError(`handler "${handler.name}": serializeBy threw: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (typeof key !== 'string' || key === '')
    throw new PermanentError(
      `handler "${handler.name}": serializeBy returned ${JSON.stringify(key) ?? 'undefined'}, not a non-empty string`,
    );
  return key;
}

/** The serialisation leases one attempt of a job takes, handler by handler, and gives back at its end. */
export class SerialAttempt {
  readonly #holds: SerialHold[] = [];

  constructor(
    private readonly leases: SerialLeases | undefined,
    private readonly data: ReceiptJobData,
    private readonly jobId: string | undefined,
  ) {}

  /** Undefined when the handler may run now (it holds its key, or does not serialise); else ms to wait. */
  async enter(handler: Handler, leaseMs: number): Promise<number | undefined> {
    const { messageType, receipt, originTimeMs } = this.data;
    const key = serialKeyFor(handler, messageType, receipt);
    if (key === undefined || !this.leases) return undefined;
    const entry = { handler: handler.name, key, messageType, jobId: this.jobId, receipt, originTimeMs };
    const entered = await this.leases.enter(entry, leaseMs);
    if (entered.state === 'wait') return entered.retryInMs;
    this.#holds.push(entered.hold);
    return undefined;
  }

  /** After the attempt's records are written: the next receipt of each key may start. */
  async leave(): Promise<void> {
    if (this.#holds.length > 0 && this.leases) await this.leases.leave(this.#holds.splice(0));
  }
}

/** Moves a waiting job out of BullMQ's delayed set now; false when it is not there (any more, or yet). */
export async function wakeJob(queues: ReceiptQueues, type: MessageType, jobId: string): Promise<boolean> {
  try {
    const job = await queues.forJob(type, jobId).getJob(jobId);
    if (!job) return false;
    await job.promote();
    return true;
  } catch {
    // Not delayed (it has not got there yet, or already left): it re-checks within SERIAL_RECHECK_MS.
    return false;
  }
}
