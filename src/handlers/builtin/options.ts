import { MESSAGE_TYPES, isMessageType } from '../../receipts/types.js';
import type { MessageType } from '../../receipts/types.js';

export type Options = Readonly<Record<string, unknown>>;

/** A built-in's options are wrong; the loader turns this into a HandlerLoadError naming the entry. */
export class OptionError extends Error {}

/** `options.name` renames a built-in, so one can be configured twice (two forward targets). */
export function nameOption(options: Options, fallback: string): string {
  const name = options['name'];
  if (name === undefined) return fallback;
  if (typeof name !== 'string' || name.trim() === '')
    throw new OptionError('options.name must be a non-empty string');
  return name;
}

/** `options.messageTypes` narrows a built-in to some types; all three by default. */
export function messageTypesOption(options: Options): readonly MessageType[] {
  const types = options['messageTypes'];
  if (types === undefined) return MESSAGE_TYPES;
  if (!Array.isArray(types) || types.length === 0 || !types.every(isMessageType)) {
    throw new OptionError(`options.messageTypes must be a non-empty array of ${MESSAGE_TYPES.join(', ')}`);
  }
  return [...new Set(types)];
}

export function positiveIntegerOption(options: Options, key: string, fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new OptionError(`options.${key} must be a positive integer`);
  }
  return value;
}

export function rejectUnknownOptions(options: Options, known: readonly string[]): void {
  const unknown = Object.keys(options).filter(k => !known.includes(k));
  if (unknown.length > 0) {
    throw new OptionError(
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')})`,
    );
  }
}
