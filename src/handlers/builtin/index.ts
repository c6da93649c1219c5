import type { Logger } from '../../observability/logger.js';
import type { Handler } from '../../contracts/handler.js';
import { createForwardHandler } from './forward.js';
import { createLogHandler } from './log.js';
import type { Options } from './options.js';

export interface BuiltinHandler {
  /** Validates the options and builds a fresh handler; throws OptionError on bad options. */
  create(options: Options, deps: { readonly logger: Logger }): Handler;
  /** Named as a bare string, it would have no options; say what to write instead. */
  readonly needsOptions?: string;
}

/** Keyed by the name used in the `handlers` config list. A Map, so `constructor` & co. are not built-ins. */
export const BUILTIN_HANDLERS: ReadonlyMap<string, BuiltinHandler> = new Map<string, BuiltinHandler>([
  ['log', { create: options => createLogHandler(options) }],
  [
    'forward',
    {
      create: (options, deps) => createForwardHandler(options, deps),
      needsOptions: '{ "name": "forward", "options": { "url": "https://…", "secret": "…" } }',
    },
  ],
]);

export {
  createForwardHandler,
  signForward,
  verifyForwardSignature,
  DEFAULT_FORWARD_TIMEOUT_MS,
} from './forward.js';
export { createLogHandler } from './log.js';
