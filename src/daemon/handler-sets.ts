import type { AppConfig } from '../config/types.js';
import { assertHandled } from '../handlers/coverage.js';
import { loadHandlers } from '../handlers/loader.js';
import type { HandlerRegistry } from '../handlers/registry.js';
import { SwappableHandlers } from '../handlers/swappable.js';
import type { Logger } from '../observability/logger.js';

/**
 * The daemon's handlers: the set the workers run, swapped on a reload, and the sets a reload replaced,
 * each closed once the attempts that started on it have ended.
 */
export class HandlerSets {
  readonly #logger: Logger;
  /** Handlers to use instead of the ones the config names (embedding and tests); never reloaded. */
  readonly #injected?: HandlerRegistry;
  #current?: SwappableHandlers;
  /** Closes of handler sets replaced by a reload, waiting for their last attempt. */
  readonly #retiring = new Set<Promise<void>>();

  constructor(logger: Logger, injected?: HandlerRegistry) {
    this.#logger = logger;
    this.#injected = injected;
  }

  /** What the workers read; undefined until `start` (and in a poller, which runs no handlers). */
  get source(): SwappableHandlers | undefined {
    return this.#current;
  }

  names(): readonly string[] {
    return this.#current?.registry.names() ?? [];
  }

  /** Loads and initialises the configured handlers; rejects with a HandlerLoadError when they cannot run. */
  async start(config: AppConfig): Promise<void> {
    this.#current = new SwappableHandlers(await this.#load(config, false));
  }

  /**
   * Loads the handlers `next` names afresh and swaps them in; the replaced set closes once idle. Rejects
   * (the running set stays) when they cannot be loaded. False when there is nothing to reload (injected).
   * `handlerTimeoutMs` is the running one (pipeline settings take effect at a restart).
   */
  async reload(next: AppConfig, handlerTimeoutMs: number): Promise<boolean> {
    if (this.#injected) return false;
    const registry = await this.#load(next, true);
    if (this.#current) this.#retire(this.#current.swap(registry), handlerTimeoutMs);
    return true;
  }

  /** The current handlers, and any replaced by a reload that are still waiting for their last attempt. */
  async close(): Promise<void> {
    await Promise.all([...this.#retiring, this.#current?.registry.closeAll()]);
  }

  async #load(config: AppConfig, fresh: boolean): Promise<HandlerRegistry> {
    const registry =
      this.#injected ??
      (await loadHandlers(config.handlers, config.configDir, { logger: this.#logger, fresh }));
    assertHandled(config, registry);
    await registry.initAll();
    return registry;
  }

  /**
   * Closes a replaced handler set once the attempts that started on it ended. An attempt ends within
   * handlerTimeoutMs (a handler that ignores its signal loses the race), so the wait is bounded.
   */
  #retire(old: HandlerRegistry, handlerTimeoutMs: number): void {
    const handlers = this.#current;
    if (!handlers) return;
    const closing = handlers.whenIdle(old, handlerTimeoutMs + 5_000).then(async idle => {
      if (!idle) {
        this.#logger.warn('closing replaced handlers while attempts still use them', {
          event: 'handlers_closed_busy',
          inUse: handlers.inUse(old),
        });
      }
      await old.closeAll();
    });
    this.#retiring.add(closing);
    void closing.finally(() => this.#retiring.delete(closing));
  }
}
