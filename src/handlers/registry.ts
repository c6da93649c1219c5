import type { Logger } from '../observability/logger.js';
import { HandlerLoadError, PermanentError } from '../errors.js';
import { defaultDedupeKey } from '../receipts/dedupe.js';
import type { AnyReceipt, MessageType } from '../receipts/types.js';
import { MESSAGE_TYPES } from '../receipts/types.js';
import type { Handler } from '../contracts/handler.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/async.js';

export interface HandlerRegistryOptions {
  readonly logger: Logger;
  /** Longest a handler's `init` may take before startup fails. */
  readonly initTimeoutMs?: number;
  /** Longest a handler's `close` may take before shutdown moves on without it. */
  readonly closeTimeoutMs?: number;
}

interface Registration {
  readonly handler: Handler;
  readonly options: Readonly<Record<string, unknown>>;
  /** Where it came from (`builtin:log`, or the module path as configured), for error messages. */
  readonly source: string;
}

const DEFAULT_INIT_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** The configured handlers, by name and by message type, with their startup and shutdown. */
export class HandlerRegistry {
  readonly #logger: Logger;
  readonly #initTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #registrations: Registration[] = [];
  readonly #byName = new Map<string, Registration>();
  readonly #byType = new Map<MessageType, Handler[]>(MESSAGE_TYPES.map(t => [t, []]));
  /** Handlers whose init succeeded (or that have none), in order; these are the ones closed. */
  #started: Registration[] = [];

  constructor(options: HandlerRegistryOptions) {
    this.#logger = options.logger;
    this.#initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  }

  /** @throws HandlerLoadError when another handler already has this name. */
  register(handler: Handler, options: Readonly<Record<string, unknown>> = {}, source = handler.name): void {
    const existing = this.#byName.get(handler.name);
    if (existing) {
      throw new HandlerLoadError(
        `duplicate handler name "${handler.name}" (already registered by ${existing.source})`,
        source,
      );
    }
    const registration = { handler, options, source };
    this.#registrations.push(registration);
    this.#byName.set(handler.name, registration);
    for (const type of new Set(handler.messageTypes)) this.#byType.get(type)?.push(handler);
  }

  /** The handlers for a message type, in registration order. */
  handlersFor(type: MessageType): readonly Handler[] {
    return this.#byType.get(type) ?? [];
  }

  get(name: string): Handler | undefined {
    return this.#byName.get(name)?.handler;
  }

  /** Every handler name, in registration order. */
  names(): readonly string[] {
    return this.#registrations.map(r => r.handler.name);
  }

  get size(): number {
    return this.#registrations.length;
  }

  /**
   * The key a handler's idempotency record is kept under: its own `dedupeKey`, or the type's default.
   * @throws PermanentError when a handler's `dedupeKey` throws or returns no usable string; retrying a
   *   pure function cannot help, so the receipt is dead-lettered for inspection and replay.
   */
  dedupeKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string {
    if (!handler.dedupeKey) return defaultDedupeKey(type, receipt);
    let key: unknown;
    try {
      key = handler.dedupeKey(receipt, type);
    } catch (err) {
      throw new PermanentError(`handler "${handler.name}": dedupeKey threw: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (typeof key !== 'string' || key === '') {
      throw new PermanentError(
        `handler "${handler.name}": dedupeKey returned ${JSON.stringify(key) ?? 'undefined'}, not a non-empty string`,
      );
    }
    return key;
  }

  /**
   * Calls each handler's `init(options)` in registration order, each bounded by the init timeout.
   * On the first failure the handlers already started are closed again, then it throws.
   * @throws HandlerLoadError naming the handler's module when an init throws or times out.
   */
  async initAll(): Promise<void> {
    for (const registration of this.#registrations) {
      if (this.#started.includes(registration)) continue;
      const { handler, options, source } = registration;
      if (handler.init) {
        try {
          await withTimeout(
            Promise.resolve().then(() => handler.init?.(options)),
            this.#initTimeoutMs,
            `init did not finish within ${this.#initTimeoutMs} ms`,
          );
        } catch (err) {
          await this.closeAll();
          throw new HandlerLoadError(
            `handler "${handler.name}" failed to initialise: ${errorMessage(err)}`,
            source,
            {
              cause: err,
            },
          );
        }
      }
      this.#started.push(registration);
      this.#logger.debug('handler started', { event: 'handler_started', handler: handler.name, source });
    }
  }

  /**
   * Calls `close()` on every started handler, in reverse order, each in its own try/catch and bounded by
   * the close timeout. Failures are logged; it never throws. Calling it again does nothing.
   */
  async closeAll(): Promise<void> {
    const started = this.#started;
    this.#started = [];
    for (const { handler, source } of [...started].reverse()) {
      if (!handler.close) continue;
      try {
        await withTimeout(
          Promise.resolve().then(() => handler.close?.()),
          this.#closeTimeoutMs,
          `close did not finish within ${this.#closeTimeoutMs} ms`,
        );
      } catch (err) {
        this.#logger.error('handler close failed', {
          event: 'handler_close_failed',
          handler: handler.name,
          source,
          error: errorMessage(err),
        });
      }
    }
  }
}
