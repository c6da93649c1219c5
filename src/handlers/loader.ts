import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { handlerEntryProblem, isHandlerEntry } from '../config/handler-entry.js';
import type { HandlerEntry } from '../config/types.js';
import { HandlerLoadError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { MESSAGE_TYPES, isMessageType } from '../receipts/types.js';
import { BUILTIN_HANDLERS } from './builtin/index.js';
import { OptionError } from './builtin/options.js';
import type { Options } from './builtin/options.js';
import { HandlerRegistry } from './registry.js';
import { registerHandlerResolution, registerTsx } from './module-hooks.js';
import { syntaxErrorLocation } from './syntax-error.js';
import type { Handler } from '../contracts/handler.js';
import { errorMessage } from '../util/error-message.js';

/** A built-in with options: `{ "name": "forward", "options": { "url": … } }`. */
export interface BuiltinEntry {
  readonly name: string;
  readonly options?: Options;
}

/** What the `handlers` config list may hold: a built-in name, a built-in with options, or a module. */
export type HandlerSpec = HandlerEntry | BuiltinEntry;

export interface LoadHandlersDeps {
  readonly logger: Logger;
  /**
   * Import modules afresh instead of reusing an earlier import of the same file, so a reload picks up
   * changed code and gets handler objects of its own (the old registry may still be closing the old ones).
   */
  readonly fresh?: boolean;
  readonly initTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
}

/** Handler names show up in Redis keys, job data and logs. */
const HANDLER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@/-]{0,99}$/;
const TYPESCRIPT = /\.[cm]?tsx?$/;
/** Node.js without type stripping, or TypeScript that stripping cannot take (enum, parameter properties). */
const TSX_FALLBACK = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX']);

let importGeneration = 0;
const requireCache = createRequire(import.meta.url).cache;

/**
 * Loads and validates the configured handlers, in order, into a new registry. It does not call `init`:
 * the caller does, with `registry.initAll()`, once it is ready to run them.
 * @throws HandlerLoadError naming the entry (`builtin:<name>` or the module path as configured) for an
 *   unknown built-in, bad options, a missing file, an import failure, a bad export shape or a duplicate name.
 */
export async function loadHandlers(
  entries: readonly HandlerSpec[],
  configDir: string,
  deps: LoadHandlersDeps,
): Promise<HandlerRegistry> {
  const registry = new HandlerRegistry(deps);
  const generation = deps.fresh ? ++importGeneration : 0;
  for (const [index, entry] of entries.entries()) {
    const { handler, options, source } = await loadEntry(entry, index, configDir, deps.logger, generation);
    registry.register(handler, options, source);
    deps.logger.debug('handler loaded', {
      event: 'handler_loaded',
      handler: handler.name,
      source,
      messageTypes: handler.messageTypes,
    });
  }
  return registry;
}

interface Loaded {
  readonly handler: Handler;
  readonly options: Options;
  readonly source: string;
}

async function loadEntry(
  entry: unknown,
  index: number,
  configDir: string,
  logger: Logger,
  generation: number,
): Promise<Loaded> {
  const problem = handlerEntryProblem(entry);
  if (problem || !isHandlerEntry(entry)) {
    throw new HandlerLoadError(problem?.message ?? 'not a handler entry', `handlers[${index}]`);
  }
  if (typeof entry === 'string') return loadBuiltin(entry, undefined, logger);
  if ('name' in entry) return loadBuiltin(entry.name, entry.options ?? {}, logger);
  const handler = await importHandler(entry.module, configDir, generation);
  return { handler, options: entry.options ?? {}, source: entry.module };
}

function loadBuiltin(name: string, options: Options | undefined, logger: Logger): Loaded {
  const source = `builtin:${name}`;
  const builtin = BUILTIN_HANDLERS.get(name);
  if (!builtin) {
    throw new HandlerLoadError(
      `unknown built-in handler (built-ins: ${[...BUILTIN_HANDLERS.keys()].join(', ')}); ` +
        'load a file with { "module": "./handlers/my-handler.js" }',
      source,
    );
  }
  if (options === undefined && builtin.needsOptions) {
    throw new HandlerLoadError(`needs options; write ${builtin.needsOptions}`, source);
  }
  try {
    return { handler: builtin.create(options ?? {}, { logger }), options: options ?? {}, source };
  } catch (err) {
    if (err instanceof OptionError) throw new HandlerLoadError(err.message, source);
    throw err;
  }
}

async function importHandler(module: string, configDir: string, generation: number): Promise<Handler> {
  const path = resolve(configDir, module);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new HandlerLoadError(`file not found (looked for ${path})`, module);
  if (!stat.isFile()) throw new HandlerLoadError(`not a file (${path})`, module);
  // A new query string makes the ESM loader evaluate the file again; a file loaded as CommonJS (a .js or
  // .ts outside a "type": "module" package, a .cjs) is also cached by path in the require cache.
  if (generation > 0) delete requireCache[path];
  const url = pathToFileURL(path).href + (generation > 0 ? `?generation=${generation}` : '');
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(url, path);
  } catch (err) {
    const at = await syntaxErrorLocation(err, path);
    const message = errorMessage(err);
    const reason = at ? (message.includes(at) ? message : `${message} at ${at}`) : importFailure(err, path);
    throw new HandlerLoadError(`import failed: ${reason}`, module, { cause: err });
  }
  return checkShape(handlerExport(namespace), module);
}

/** Imports a handler file; TypeScript the running Node.js cannot strip is imported again through tsx. */
async function importModule(url: string, path: string): Promise<Record<string, unknown>> {
  registerHandlerResolution();
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (!TSX_FALLBACK.has(String(code)) || !TYPESCRIPT.test(path) || !(await registerTsx())) throw err;
    return (await import(`${url}${url.includes('?') ? '&' : '?'}tsx`)) as Record<string, unknown>;
  }
}

/**
 * The handler object: the default export, or failing that the module's named exports. A `.ts` file that
 * tsx treats as CommonJS (no `"type": "module"` nearby) exposes `export default` one level deeper.
 */
function handlerExport(namespace: Record<string, unknown>): unknown {
  let candidate = namespace['default'];
  if (isObjectLike(candidate) && !('handle' in candidate) && isObjectLike(candidate['default'])) {
    candidate = candidate['default'];
  }
  if (candidate === undefined && typeof namespace['handle'] === 'function') candidate = { ...namespace };
  return candidate;
}

function checkShape(candidate: unknown, module: string): Handler {
  if (candidate === undefined) {
    throw new HandlerLoadError(
      'no default export; write `export default { name, messageTypes, handle }`',
      module,
    );
  }
  if (!isObjectLike(candidate) || typeof candidate === 'function') {
    throw new HandlerLoadError(
      `the default export must be an object { name, messageTypes, handle }, got ${describe(candidate)}`,
      module,
    );
  }
  checkName(candidate['name'], module);
  checkMessageTypes(candidate['messageTypes'], module);
  // A batch handler may leave `handle` out: it is never called.
  if (typeof candidate['handle'] !== 'function' && typeof candidate['handleBatch'] !== 'function') {
    throw new HandlerLoadError(`"handle" must be a function, got ${describe(candidate['handle'])}`, module);
  }
  for (const hook of ['handleBatch', 'dedupeKey', 'serializeBy', 'init', 'close']) {
    const value = candidate[hook];
    if (value !== undefined && typeof value !== 'function') {
      throw new HandlerLoadError(`"${hook}" must be a function when present, got ${describe(value)}`, module);
    }
  }
  checkOptions(candidate, module);
  return candidate as unknown as Handler;
}

/** `trackStatus` and `batch`, when present. */
function checkOptions(candidate: Record<string, unknown>, module: string): void {
  const { trackStatus, batch } = candidate;
  if (trackStatus !== undefined && typeof trackStatus !== 'boolean')
    throw new HandlerLoadError(`"trackStatus" must be true or false, got ${describe(trackStatus)}`, module);
  if (batch === undefined) return;
  const limits = isObjectLike(batch) ? (batch as Record<string, unknown>) : undefined;
  const bad = (v: unknown, min: number) => v !== undefined && !(Number.isInteger(v) && (v as number) >= min);
  if (!limits || bad(limits['maxSize'], 1) || bad(limits['lingerMs'], 0))
    throw new HandlerLoadError(
      `"batch" must be { maxSize: an integer >= 1, lingerMs: an integer >= 0 }, got ${JSON.stringify(batch)}`,
      module,
    );
}

function checkName(name: unknown, module: string): void {
  if (typeof name !== 'string' || name === '') {
    throw new HandlerLoadError(`"name" must be a non-empty string, got ${describe(name)}`, module);
  }
  if (!HANDLER_NAME.test(name)) {
    throw new HandlerLoadError(
      `"name" ${JSON.stringify(name)} must start with a letter or digit and use only letters, digits and . _ @ / - (at most 100)`,
      module,
    );
  }
}

function checkMessageTypes(messageTypes: unknown, module: string): void {
  if (!Array.isArray(messageTypes) || messageTypes.length === 0) {
    throw new HandlerLoadError(
      `"messageTypes" must be a non-empty array of ${MESSAGE_TYPES.join(', ')}`,
      module,
    );
  }
  const wrong = messageTypes.filter(t => !isMessageType(t));
  if (wrong.length > 0) {
    throw new HandlerLoadError(
      `"messageTypes" has unknown type ${wrong.map(t => JSON.stringify(t)).join(', ')} (valid: ${MESSAGE_TYPES.join(', ')})`,
      module,
    );
  }
}

function importFailure(err: unknown, path: string): string {
  const message = errorMessage(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.test(path)) {
    return `${message}. TypeScript handler modules load through Node's type stripping or tsx; compile them to .js if neither is available`;
  }
  if (
    /Cannot use import statement|Unexpected token 'export'|Cannot require\(\) ES Module|Require stack/.test(
      message,
    )
  ) {
    return `${message}. The file is ESM loaded as CommonJS: name it .mjs (.mts), or put a package.json with {"type": "module"} in its directory`;
  }
  return message;
}

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}
