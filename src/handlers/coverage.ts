import type { AppConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { HandlerRegistry } from './registry.js';

/** Receipts of a type nobody handles would be deleted unprocessed: refuse to start instead. */
export function assertHandled(config: AppConfig, registry: HandlerRegistry): void {
  const needed = new Set<MessageType>(config.consumers.map(c => c.messageType));
  if (config.http.port !== 0 && config.role === 'all') for (const t of MESSAGE_TYPES) needed.add(t);
  for (const type of needed) {
    if (registry.handlersFor(type).length === 0) {
      throw new ConfigError(
        `no handler is registered for ${type}; add "log" or a handler module to "handlers"`,
        `${config.configDir}/default.json`,
        'handlers',
      );
    }
  }
}
