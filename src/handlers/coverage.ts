import type { AppConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import type { HandlerRegistry } from './registry.js';

/**
 * The types this deployment can receive: those of its queue files, and those with a push path (the CAMS
 * types by default; the SMS types once `http.paths.<Type>` is set). Workers run for these.
 */
export function receivedTypes(config: AppConfig): readonly MessageType[] {
  const queued = new Set<MessageType>(config.consumers.map(c => c.messageType));
  return MESSAGE_TYPES.filter(t => queued.has(t) || config.http.paths[t] !== '');
}

/** Receipts of a type nobody handles would be deleted unprocessed: refuse to start instead. */
export function assertHandled(config: AppConfig, registry: HandlerRegistry): void {
  const needed = new Set<MessageType>(config.consumers.map(c => c.messageType));
  if (config.http.port !== 0 && config.role === 'all')
    for (const t of MESSAGE_TYPES) if (config.http.paths[t] !== '') needed.add(t);
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
