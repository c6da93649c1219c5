import { isPlainObject } from '../util/objects.js';
import type { HandlerEntry } from './types.js';

/** Built-in handler names: lower-case letters, digits and `-`. */
const BUILTIN_NAME = /^[a-z][a-z0-9-]*$/;

/** Why an entry of the `handlers` list is wrong; `subKey` narrows the key inside it (`.module`). */
export interface EntryProblem {
  readonly message: string;
  readonly subKey: string;
}

/**
 * Checks one entry of the `handlers` list: `"log"`, `{ "name": "forward", "options": {…} }` or
 * `{ "module": "./handlers/x.js", "options": {…} }`. The configuration and the handler loader both ask
 * here, so an entry means the same thing (and fails the same way) wherever it comes from.
 */
export function handlerEntryProblem(entry: unknown): EntryProblem | undefined {
  if (typeof entry === 'string') {
    return BUILTIN_NAME.test(entry) ? undefined : problem('must be a built-in handler name such as "log"');
  }
  if (!isPlainObject(entry)) {
    return problem('must be a built-in name ("log"), or a { "name": … } or { "module": … } object');
  }
  const unknown = Object.keys(entry).find(k => k !== 'module' && k !== 'name' && k !== 'options');
  if (unknown !== undefined) {
    return problem(`unknown key ${unknown} (an entry has "module" or "name", and "options")`, `.${unknown}`);
  }
  if (entry['options'] !== undefined && !isPlainObject(entry['options'])) {
    return problem('"options" must be an object', '.options');
  }
  return targetProblem(entry);
}

/** Narrows a checked entry's type; call it only after `handlerEntryProblem` found nothing. */
export function isHandlerEntry(entry: unknown): entry is HandlerEntry {
  return handlerEntryProblem(entry) === undefined;
}

function targetProblem(entry: Record<string, unknown>): EntryProblem | undefined {
  const { module, name } = entry;
  if (module !== undefined && name !== undefined) {
    return problem('give either "module" (a file) or "name" (a built-in), not both', '.name');
  }
  if (name !== undefined) {
    if (typeof name === 'string' && BUILTIN_NAME.test(name)) return undefined;
    return problem('must be a built-in handler name such as "forward"', '.name');
  }
  if (typeof module !== 'string' || module.trim() === '') {
    return problem(
      'needs "module": a module path relative to the config directory (or "name": a built-in handler)',
      '.module',
    );
  }
  return undefined;
}

function problem(message: string, subKey = ''): EntryProblem {
  return { message, subKey };
}
