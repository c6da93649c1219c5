/**
 * The flow control of one consumer loop: `max` credits, one per message in flight, plus those a receive in
 * progress holds for the messages it may bring back. A receive asks only for the room left, so the loop
 * never holds more than `max` messages. `onRoom` and `onIdle` are its waits, as p-queue's `onSizeLessThan`
 * and `onIdle` are.
 */
export class Credits {
  readonly max: number;
  #inFlight = 0;
  #reserved = 0;
  #roomWaiter?: () => void;
  #idleWaiters: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Expected maxInFlight to be an integer >= 1, got ${max}`);
    }
    this.max = max;
  }

  /** Messages received and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Credits in use: messages in flight, and what receives in progress hold. */
  get used(): number {
    return this.#inFlight + this.#reserved;
  }

  /** Credits free for the next receive. */
  get room(): number {
    return this.max - this.used;
  }

  /** A receive asks for `n` messages: it holds `n` credits until `unreserve(n)`. */
  reserve(n: number): void {
    this.#reserved += n;
  }

  unreserve(n: number): void {
    this.#reserved -= n;
    this.wake();
  }

  /** `n` messages arrived: each holds a credit until it is released. */
  hold(n: number): void {
    this.#inFlight += n;
  }

  /** One message settled: its credit is free again. Exactly once per held message. */
  release(): void {
    this.#inFlight -= 1;
    this.wake();
    if (this.#inFlight === 0) for (const idle of this.#idleWaiters.splice(0)) idle();
  }

  /** Resolves at once when there is room, otherwise at the next release or `wake()`. */
  onRoom(): Promise<void> | undefined {
    if (this.room > 0) return undefined;
    return new Promise(resolve => {
      this.#roomWaiter = resolve;
    });
  }

  /** Ends the wait for room (a release, or the loop stopping). */
  wake(): void {
    const room = this.#roomWaiter;
    this.#roomWaiter = undefined;
    room?.();
  }

  /** Resolves once no message is in flight. */
  onIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise(resolve => this.#idleWaiters.push(resolve));
  }
}
