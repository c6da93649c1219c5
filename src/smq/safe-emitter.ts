import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../util/error-message.js';

/**
 * An EventEmitter whose listeners cannot break the component that emits: a throwing listener is logged,
 * and an 'error' event with no listener is only logged instead of crashing the process.
 */
export class SafeEmitter<T extends Record<keyof T, unknown[]>> extends EventEmitter<T> {
  constructor(protected readonly logger: Logger) {
    super();
  }

  protected emitSafely<K extends keyof T & string>(event: K, ...args: T[K]): void {
    const plain = this as unknown as EventEmitter;
    if (event === 'error' && plain.listenerCount('error') === 0) return;
    try {
      plain.emit(event, ...args);
    } catch (err) {
      this.logger.error('event listener threw', {
        event: 'listener_failed',
        listenerEvent: event,
        error: errorMessage(err),
      });
    }
  }
}
