import type { Handler } from './types.js';
import type { HandlerRegistry } from './registry.js';
import type { AnyReceipt, MessageType } from '../receipts/types.js';

/**
 * The handler set workers consult, swapped whole on reload: a job picks up the new set on its next
 * attempt, and a running attempt keeps the handlers it started with.
 */
export class SwappableHandlers {
  constructor(private current: HandlerRegistry) {}

  get registry(): HandlerRegistry {
    return this.current;
  }

  /** Installs `next` and returns the previous registry, for the caller to close. */
  swap(next: HandlerRegistry): HandlerRegistry {
    const previous = this.current;
    this.current = next;
    return previous;
  }

  handlersFor(type: MessageType): readonly Handler[] {
    return this.current.handlersFor(type);
  }

  dedupeKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string {
    return this.current.dedupeKeyFor(handler, type, receipt);
  }
}
