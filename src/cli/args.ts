import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/types.js';
import { redactedMessage } from '../observability/redact.js';
import { silentLogger } from '../observability/logger.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { waitReady } from '../redis/connection.js';
import { describeTarget } from '../redis/options.js';
import { inspectTopology, type Topology } from '../redis/topology.js';
import { ConfigError } from '../errors.js';
import { isMessageType, MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import { writeLine, type CliIo } from './io.js';
import { errorMessage } from '../util/error-message.js';

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

/** Loads the configuration as `start` does, or prints why not and returns undefined. */
export function loadCommandConfig(io: CliIo, configDir: string | undefined): AppConfig | undefined {
  try {
    return loadConfig({ cwd: io.cwd, env: io.env, configDir });
  } catch (err) {
    writeLine(io.stderr, `invalid configuration: ${redactedMessage(err)}`);
    return undefined;
  }
}

/**
 * A pipeline without workers, for admin commands: the queues, the sink, the dead-letter store, and
 * completions when `completions` is set. Rejects when Redis is not reachable within `timeoutMs`.
 */
export async function openAdminPipeline(
  config: AppConfig,
  opts: { completions?: boolean; timeoutMs?: number } = {},
): Promise<Pipeline> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let topology: Topology;
  try {
    // Inspect first: BullMQ queues built on a connection that never comes up leave rejections behind, and a
    // cluster node given as redis.url (or the like) deserves its own message.
    topology = await inspectTopology(config.redis, timeoutMs);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new Error(`${describeTarget(config.redis)} is unreachable: ${errorMessage(err)}`, { cause: err });
  }
  const pipeline = new Pipeline({
    redis: config.redis,
    topology,
    config: config.pipeline,
    logger: silentLogger(),
    shutdown: new AbortController().signal,
    completions: opts.completions ?? false,
    maxWaitMs: 60_000,
  });
  try {
    await waitReady(pipeline.redis, timeoutMs);
    // The queues finish starting before the command uses them (and, soon after, closes them).
    await pipeline.waitUntilReady();
  } catch (err) {
    await pipeline.close();
    throw err;
  }
  return pipeline;
}

/** Left-aligned columns, two spaces apart. A short row's last cell spans the columns it lacks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cellWidth = (r: readonly string[], i: number) =>
    i === r.length - 1 && r.length < header.length ? 0 : (r[i] ?? '').length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => cellWidth(r, i))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line of at most `max` characters. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : flat.slice(0, max - 1) + '…';
}
