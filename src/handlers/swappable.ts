import type { HandlerSource } from '../contracts/handler.js';
import type { AnyReceipt, MessageType } from '../receipts/types.js';
import type { HandlerRegistry } from './registry.js';
import type { Handler } from '../contracts/handler.js';

/**
 * The handler set workers consult, swapped whole on reload: a job picks up the new set on its next
 * attempt, and a running attempt keeps the set it started with. Sets are counted while attempts use them,
 * so a replaced set is closed only once its last attempt ended.
 */
export class SwappableHandlers implements HandlerSource {
  #current: HandlerRegistry;
  readonly #inUse = new Map<HandlerRegistry, number>();
  readonly #onIdle = new Map<HandlerRegistry, () => void>();

  constructor(current: HandlerRegistry) {
    this.#current = current;
  }

  get registry(): HandlerRegistry {
    return this.#current;
  }

  /** Installs `next` and returns the previous registry, for the caller to close once idle. */
  swap(next: HandlerRegistry): HandlerRegistry {
    const previous = this.#current;
    this.#current = next;
    return previous;
  }

  acquire(): HandlerRegistry {
    const set = this.#current;
    this.#inUse.set(set, (this.#inUse.get(set) ?? 0) + 1);
    return set;
  }

  release(set: HandlerRegistry): void {
    const left = (this.#inUse.get(set) ?? 1) - 1;
    if (left > 0) {
      this.#inUse.set(set, left);
      return;
    }
    this.#inUse.delete(set);
    this.#onIdle.get(set)?.();
  }

  /** Attempts running on `set` now. */
  inUse(set: HandlerRegistry): number {
    return this.#inUse.get(set) ?? 0;
  }

  /** Resolves true once no attempt uses `set`, or false when `timeoutMs` passed first. */
  async whenIdle(set: HandlerRegistry, timeoutMs: number): Promise<boolean> {
    if (this.inUse(set) === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>(resolve => {
        this.#onIdle.set(set, () => resolve(true));
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.#onIdle.delete(set);
    }
  }

  handlersFor(type: MessageType): readonly Handler[] {
    return this.#current.handlersFor(type);
  }

  dedupeKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string {
    return this.#current.dedupeKeyFor(handler, type, receipt);
  }
}
