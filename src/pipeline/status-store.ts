import type { StatusEvent, StatusTransition } from '../contracts/status.js';
import type { RedisClient } from '../redis/connection.js';
import { transition } from './status-machine.js';

// Writes the record only if it is still what the caller read. KEYS = record; ARGV = expected, next, ttlSeconds.
const SWAP = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

interface SwapCommand {
  camsStatusSwap(key: string, expected: string, next: string, ttlSeconds: number): Promise<number>;
}

/** A history entry as stored: [status, atMs, previous ('' for none), flags (1 advances, 2 anomaly)]. */
type Entry = [status: string, atMs: number, previous: string, flags: number];

interface StatusRecord {
  /** The current state; '' for none yet. */
  s: string;
  h: Entry[];
}

/** Statuses kept per message: the four delivery states and a dozen events; the oldest events go first. */
export const MAX_HISTORY = 16;
const MAX_SWAPS = 50;

/**
 * The delivery state of each message in Redis: one small JSON record per MessageId (its state and a bounded
 * history), kept `ttlSeconds` after its last status, like the idempotency records. Applying a status is
 * idempotent: the same status applied again (a retry, a second handler) gets the answer it got the first time,
 * except that it no longer advances once a later status moved the state past it.
 */
export class StatusStore {
  private readonly commands: SwapCommand;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('camsStatusSwap', { numberOfKeys: 1, lua: SWAP });
    this.commands = redis as unknown as SwapCommand;
  }

  key(messageId: string): string {
    return `${this.prefix}:status:${messageId}`;
  }

  /** Applies `status` to the message (compare-and-swap, retried while other statuses land in between). */
  async apply(messageId: string, status: string, atMs: number): Promise<StatusTransition> {
    const key = this.key(messageId);
    for (let i = 0; i < MAX_SWAPS; i += 1) {
      const raw = (await this.redis.get(key)) ?? '';
      const record = parse(raw);
      const seen = record.h.find(e => e[0] === status);
      if (seen) return answer(seen, record);
      const t = transition(record.s || undefined, status);
      const entry: Entry = [status, atMs, record.s, (t.advances ? 1 : 0) | (t.anomaly ? 2 : 0)];
      const next: StatusRecord = { s: t.state ?? '', h: bounded([...record.h, entry]) };
      if ((await this.commands.camsStatusSwap(key, raw, JSON.stringify(next), this.ttlSeconds)) === 1)
        return { ...t, history: next.h.map(toEvent) };
    }
    throw new Error(`the status record of ${messageId} kept changing under ${MAX_SWAPS} tries`);
  }
}

function parse(raw: string): StatusRecord {
  if (raw === '') return { s: '', h: [] };
  return JSON.parse(raw) as StatusRecord;
}

/** Drops the oldest event (not a delivery state) while the history is over its bound. */
function bounded(history: Entry[]): Entry[] {
  while (history.length > MAX_HISTORY) {
    const event = history.findIndex(e => transition(undefined, e[0]).event);
    history.splice(event === -1 ? 0 : event, 1);
  }
  return history;
}

/**
 * The transition a status got when it was first applied, with the history as it is now. It still advances only
 * while nothing moved the state past it since: a retry of Delivered after Read was applied is stale.
 */
function answer(entry: Entry, record: StatusRecord): StatusTransition {
  const [status, , previous, flags] = entry;
  const t = transition(previous || undefined, status);
  const advances = (flags & 1) === 1 && record.s === status;
  return {
    ...t,
    state: record.s || undefined,
    advances,
    anomaly: (flags & 2) === 2,
    history: record.h.map(toEvent),
  };
}

function toEvent(entry: Entry): StatusEvent {
  return { status: entry[0], atMs: entry[1] };
}
