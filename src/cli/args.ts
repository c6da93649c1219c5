import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isMessageType, MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import { writeLine, type CliIo } from './io.js';

/** Exit codes shared by the admin commands. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

/** parseArgs with the usage on error. Returns the exit code 2 when the arguments are wrong. */
export function parseCommandArgs(
  args: readonly string[],
  options: Options,
  io: CliIo,
  command: string,
  usage: string,
): Parsed | number {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    writeLine(io.stderr, `${command}: ${(err as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** `--type`: one of the message types; undefined when absent; an error text when wrong. */
export function typeOption(parsed: Parsed): MessageType | undefined | { error: string } {
  const value = stringOption(parsed, 'type');
  if (value === undefined) return undefined;
  if (isMessageType(value)) return value;
  return { error: `--type must be one of ${MESSAGE_TYPES.join(', ')} (got ${JSON.stringify(value)})` };
}

/** `--since`: an ISO 8601 time (or a date), as epoch ms; an error text when unreadable. */
export function sinceOption(parsed: Parsed): number | undefined | { error: string } {
  const value = stringOption(parsed, 'since');
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    return {
      error: `--since must be an ISO 8601 time such as 2024-05-01T12:00:00Z (got ${JSON.stringify(value)})`,
    };
  return ms;
}
