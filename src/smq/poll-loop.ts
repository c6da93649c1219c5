import type { ConsumerEvents } from '../contracts/telemetry.js';
import { sleep } from '../util/async.js';
import { asError } from '../util/error-message.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { classifyLoopError } from './classify.js';
import type { Credits } from './credits.js';
import type { PollHealth } from './poll-health.js';
import type { StorePause } from './store-pause.js';
import type { SmqMessage, SmqQueueClient } from './types.js';

export interface PollLoopOptions {
  readonly client: SmqQueueClient;
  readonly credits: Credits;
  readonly health: PollHealth;
  readonly storePause: StorePause;
  readonly backoff: BackoffOptions;
  readonly batchSize: number;
  readonly waitSeconds: number;
  readonly receiveLingerMs: number;
  readonly queueMissingBackoffMs: number;
  /** Aborted when the loop stops: ends every pacing and backoff sleep at once. */
  readonly stopped: AbortSignal;
  /** Takes the messages a receive returned (they already hold their credits). */
  readonly accept: (messages: SmqMessage[]) => void;
  readonly emit: <K extends keyof ConsumerEvents>(event: K, ...args: ConsumerEvents[K]) => void;
}

/** With waitSeconds 0 an empty queue answers at once; pause so the loop does not spin. */
const EMPTY_POLL_PAUSE_MS = 1_000;
/**
 * Receives one loop keeps in flight when the queue has a backlog and the loop is short of work (see
 * #shortOfWork), so it does not sit idle for each round trip. Otherwise one poll at a time (one long
 * poll when the queue is empty, as SMQ recommends).
 */
const BACKLOG_POLLS = 3;

/**
 * The poll scheduling of one consumer loop: when to receive, how many messages to ask for (the room the
 * credits leave), how long to wait between receives, and how to back off a failure. It never throws.
 */
export class PollLoop {
  readonly #o: PollLoopOptions;
  readonly #backoff: Backoff;
  /** Cuts the long poll short when stopping. */
  readonly #pollAbort = new AbortController();
  /** Receives in progress. */
  #receiving = 0;

  constructor(options: PollLoopOptions) {
    this.#o = options;
    this.#backoff = new Backoff(options.backoff);
  }

  /** A receive is in progress on a queue with a backlog: it answers at once, so it is worth waiting for. */
  get receivingBacklog(): boolean {
    return this.#receiving > 0 && this.#o.health.lastPollCount > 0;
  }

  /** Cuts a long poll in progress short. */
  cut(): void {
    this.#pollAbort.abort();
  }

  /** Polls until `stopped` aborts, then resolves once every receive in progress has ended. */
  async run(): Promise<void> {
    const { credits, storePause, stopped } = this.#o;
    const polls = new Set<Promise<void>>();
    while (!stopped.aborted) {
      const limit = this.#shortOfWork() ? BACKLOG_POLLS : 1;
      if (polls.size >= limit) {
        await Promise.race(polls);
        continue;
      }
      const pauseMs = storePause.remainingMs();
      if (pauseMs > 0) {
        await (polls.size > 0 ? Promise.race(polls) : storePause.sleep(pauseMs));
        continue;
      }
      await credits.onRoom();
      if (stopped.aborted) break;
      const poll = this.#startPoll(polls);
      // Without a backlog, one poll at a time: the next is decided by what this one returns.
      if (limit === 1) await poll;
    }
    await Promise.all(polls);
  }

  /** Sends one receive for the room there is; its credits are held until it (and its pacing sleep) ends. */
  #startPoll(polls: Set<Promise<void>>): Promise<void> {
    const { credits } = this.#o;
    const max = Math.min(this.#o.batchSize, credits.room);
    credits.reserve(max);
    const poll = this.#pollOnce(max).finally(() => {
      credits.unreserve(max);
      polls.delete(poll);
    });
    polls.add(poll);
    return poll;
  }

  /** One receive; never throws (failures are classified and backed off here). */
  async #pollOnce(max: number): Promise<void> {
    try {
      const messages = await this.#receive(max);
      // A reply that raced the stop is processed like any other, so nothing received is left unleased.
      if (messages.length > 0) this.#o.accept(messages);
      this.#o.health.lastPollCount = messages.length;
      if (this.#o.stopped.aborted) return;
      this.#succeeded(messages.length);
      await this.#pace(messages.length, max);
    } catch (err) {
      if (this.#o.stopped.aborted) return;
      await this.#failed(err);
    }
  }

  async #receive(max: number): Promise<SmqMessage[]> {
    this.#receiving += 1;
    try {
      return await this.#o.client.receive(max, this.#o.waitSeconds, this.#pollAbort.signal);
    } finally {
      this.#receiving -= 1;
    }
  }

  /** The wait before the next receive, after one that succeeded. */
  async #pace(count: number, max: number): Promise<void> {
    const { waitSeconds, receiveLingerMs, stopped } = this.#o;
    if (count === 0 && waitSeconds === 0) {
      await sleep(EMPTY_POLL_PAUSE_MS, stopped);
    } else if (count > 0 && count < max && receiveLingerMs > 0) {
      // A partial batch: messages trickle in. Let a few more arrive instead of paying a request (and a
      // round of Redis calls) for every one or two of them.
      await sleep(receiveLingerMs, stopped);
    }
  }

  #succeeded(count: number): void {
    const atMs = Date.now();
    this.#o.health.succeeded(atMs);
    this.#backoff.reset();
    this.#o.emit('poll_completed', { atMs, count });
  }

  async #failed(err: unknown): Promise<void> {
    const errorClass = classifyLoopError(err);
    if (errorClass === 'empty') return;
    const delayMs = errorClass === 'queue_missing' ? this.#o.queueMissingBackoffMs : this.#backoff.next();
    this.#o.health.failed(err, errorClass, delayMs);
    if (errorClass === 'unexpected') this.#o.emit('error', asError(err));
    this.#o.emit('backoff', { errorClass, delayMs });
    await sleep(delayMs, this.#o.stopped);
  }

  /**
   * The queue has a backlog (the last poll came back full) but fewer than half the credits are in use:
   * receives, not processing, are what holds the loop back (a distant endpoint), so more go out at once.
   */
  #shortOfWork(): boolean {
    const { health, credits, batchSize } = this.#o;
    return (
      health.lastPollCount >= batchSize && health.consecutiveFailures === 0 && credits.used * 2 < credits.max
    );
  }
}
