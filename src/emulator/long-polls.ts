import type { StoredMessage } from './queue-types.js';

/** A long poll waiting for messages; `null` means the queue was deleted meanwhile. */
export type Deliver = (messages: StoredMessage[] | null) => void;

interface Waiter {
  readonly max: number;
  readonly deliver: Deliver;
  timer: NodeJS.Timeout | undefined;
}

/** What the long polls of one queue need from it. */
export interface LongPollQueue {
  /** Visible messages now. */
  visible(): number;
  /** When the next delayed or in-flight message becomes visible (Infinity when none will). */
  nextDueMs(): number;
  take(max: number, now: number): StoredMessage[];
  refresh(now: number): void;
}

/**
 * The long polls waiting on one queue, answered in arrival order as messages become visible. One timer per
 * queue, armed only while long polls wait, for the next delay or visibility expiry.
 */
export class LongPolls {
  readonly #queue: LongPollQueue;
  readonly #waiters: Waiter[] = [];
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAtMs = Infinity;

  constructor(queue: LongPollQueue) {
    this.#queue = queue;
  }

  /** Holds a request until a message becomes visible or `waitMs` passes; returns what abandons it. */
  wait(max: number, waitMs: number, deliver: Deliver, now: number): () => void {
    const waiter: Waiter = { max, deliver, timer: undefined };
    waiter.timer = setTimeout(() => {
      this.#remove(waiter);
      deliver([]);
    }, waitMs);
    this.#waiters.push(waiter);
    this.arm(now);
    return () => {
      if (this.#remove(waiter)) clearTimeout(waiter.timer);
    };
  }

  /** Gives visible messages to the waiting polls, first come first served. */
  serve(now: number): void {
    while (this.#waiters.length > 0 && this.#queue.visible() > 0) {
      const waiter = this.#waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.deliver(this.#queue.take(waiter.max, now));
    }
    if (this.#waiters.length === 0) this.#clearWake();
  }

  /** Answers every waiting poll with `messages` (`[]` on shutdown, `null` when the queue is deleted). */
  answerAll(messages: [] | null): void {
    this.#clearWake();
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.deliver(messages);
    }
  }

  /** Arms the wake timer for the next message due, if polls wait and it is sooner than the one armed. */
  arm(now: number): void {
    if (this.#waiters.length === 0) return;
    const next = this.#queue.nextDueMs();
    if (next === Infinity || next >= this.#wakeAtMs) return;
    this.#clearWake();
    this.#wakeAtMs = next;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.#wakeAtMs = Infinity;
        const at = Date.now();
        this.#queue.refresh(at);
        this.arm(at);
      },
      Math.max(1, next - now),
    );
  }

  #remove(waiter: Waiter): boolean {
    const i = this.#waiters.indexOf(waiter);
    if (i < 0) return false;
    this.#waiters.splice(i, 1);
    if (this.#waiters.length === 0) this.#clearWake();
    return true;
  }

  #clearWake(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wakeAtMs = Infinity;
  }
}
