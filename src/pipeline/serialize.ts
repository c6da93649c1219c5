import { randomUUID } from 'node:crypto';
import type { Handler } from '../contracts/handler.js';
import { PermanentError } from '../errors.js';
import { receiptType, type AnyReceipt, type MessageType } from '../receipts/types.js';
import type { RedisClient } from '../redis/connection.js';
import { errorMessage } from '../util/error-message.js';
import type { ReceiptJobData } from './job.js';
import type { ReceiptQueues } from './queues.js';

// Takes the key's lease when it is free, already ours, or reserved for us; otherwise joins the key's waiters
// (a sorted set by rank, then arrival) and answers how long the lease has left.
// KEYS = lease, waiters; ARGV = member, leaseMs, score, waitersTtlMs. Returns -1 when taken.
const ENTER = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or holder == 'r:' .. ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return redis.call('PTTL', KEYS[1])`;

// Lets the lease go if still ours, handing it to the best-ranked waiter (reserved for a while, so no
// newcomer slips in before it). KEYS = lease, waiters; ARGV = member, reserveMs. Returns that waiter.
const LEAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local head = redis.call('ZPOPMIN', KEYS[2])
if head[1] then
  redis.call('SET', KEYS[1], 'r:' .. head[1], 'PX', ARGV[2])
  return head[1]
end
redis.call('DEL', KEYS[1])
return false`;

interface SerialCommands {
  camsSerialEnter(lease: string, waiters: string, ...args: (string | number)[]): Promise<number>;
  camsSerialLeave(lease: string, waiters: string, member: string, reserveMs: number): Promise<string | null>;
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

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly wake: WakeJob,
  ) {
    redis.defineCommand('camsSerialEnter', { numberOfKeys: 2, lua: ENTER });
    redis.defineCommand('camsSerialLeave', { numberOfKeys: 2, lua: LEAVE });
    this.commands = redis as unknown as SerialCommands;
  }

  async enter(entry: SerialEntry, leaseMs: number): Promise<SerialEnter> {
    const base = `${this.prefix}:serial:${entry.handler}:${entry.key}`;
    const member = entry.jobId ? `${entry.messageType}|${entry.jobId}` : `-|${randomUUID()}`;
    const rank = receiptType(entry.messageType).rank?.(entry.receipt) ?? 0;
    const score = rank * RANK_SPAN + entry.originTimeMs;
    const hold = { lease: base, waiters: `${base}:q`, member };
    const left = await this.commands.camsSerialEnter(
      hold.lease,
      hold.waiters,
      member,
      leaseMs,
      score,
      2 * leaseMs,
    );
    if (left === -1) return { state: 'entered', hold };
    return { state: 'wait', retryInMs: Math.min(SERIAL_RECHECK_MS, Math.max(10, left)) };
  }

  /** Gives the leases back and wakes the next waiter of each. Never throws: an unreleased lease lapses. */
  async leave(holds: readonly SerialHold[]): Promise<void> {
    await Promise.all(holds.map(h => this.leaveOne(h).catch(() => undefined)));
  }

  private async leaveOne(hold: SerialHold): Promise<void> {
    const next = await this.commands.camsSerialLeave(hold.lease, hold.waiters, hold.member, RESERVE_MS);
    if (!next) return;
    const bar = next.indexOf('|');
    const type = next.slice(0, bar);
    if (type !== '-') await this.wake(type as MessageType, next.slice(bar + 1));
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
    const job = await queues.get(type).getJob(jobId);
    if (!job) return false;
    await job.promote();
    return true;
  } catch {
    // Not delayed (it has not got there yet, or already left): it re-checks within SERIAL_RECHECK_MS.
    return false;
  }
}
