import { openAdminPipeline } from '../pipeline/admin-pipeline.js';
import type { DeadLetterQuery } from '../pipeline/dead-letter-store.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { chooseEntries, replayEntry, withOutcomes, type ReplayResult } from '../pipeline/replay.js';
import { redactedMessage } from '../observability/redact.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  flag,
  parseCommandArgs,
  sinceOption,
  stringOption,
  typeOption,
  type Parsed,
} from './args.js';
import { loadCommandConfig } from './config.js';
import { confirm, isInteractive } from './confirm.js';
import { entriesText, entryText, replayText } from './dlq-output.js';
import { writeLine, type CliIo, type Command } from './io.js';

const USAGE = `Usage: cams-receipts dlq <list|show|replay|purge> [options]

Works on the dead-letter store: receipts that could not be decoded, validated or processed.

  dlq list   [--type T] [--since ISO] [--limit N]      list entries, oldest first
  dlq show   <id>                                       print one entry in full (secrets redacted)
  dlq replay [ids…] [--type T] [--since ISO] [--wait]   run the receipts through their handlers again
  dlq purge  [ids…] [--type T] [--since ISO] [--yes]    delete entries (asks first unless --yes)

Options:
  --config <dir>   configuration directory (default: $CAMS_CONFIG_DIR, else ./config)
  --type <T>       only ChatAppInbound, ChatAppStatus or ChatAppAudit entries
  --since <ISO>    only entries parked at or after this time, e.g. 2024-05-01T00:00:00Z
  --limit <N>      list at most N entries
  --wait           replay: wait until each replayed job finished, and report its outcome
  --timeout <s>    replay --wait: give up waiting after this many seconds (default 60)
  --yes            purge: do not ask for confirmation
  --json           print JSON instead of text
  -h, --help       show this help

Replay is idempotent: handlers that already completed a receipt are skipped, so only the ones that
failed run again. Entries that were not a receipt (reason decode or invalid) are decoded and validated
again, and replayed only if they now pass. Replay with no ids takes every entry the filters match.

Exit codes: 0 ok, 1 failure (Redis unreachable, an entry not found or not replayed), 2 usage error.`;

const OPTIONS = {
  config: { type: 'string' },
  type: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SUBCOMMANDS = ['list', 'show', 'replay', 'purge'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

interface Context {
  readonly io: CliIo;
  readonly parsed: Parsed;
  readonly ids: readonly string[];
  readonly query: DeadLetterQuery;
  readonly json: boolean;
}

/** `cams-receipts dlq …`: list, show, replay and purge dead-lettered receipts. */
export const dlqCommand: Command = async (args, io) => {
  const request = parseRequest(args, io);
  if (typeof request === 'number') return request;
  const config = loadCommandConfig(io, stringOption(request.ctx.parsed, 'config'));
  if (!config) return EXIT_FAILURE;
  let pipeline: Pipeline;
  try {
    const completions = request.sub === 'replay' && flag(request.ctx.parsed, 'wait');
    pipeline = await openAdminPipeline(config, { completions });
  } catch (err) {
    writeLine(io.stderr, `dlq: ${redactedMessage(err)}`);
    return EXIT_FAILURE;
  }
  try {
    return await SUBCOMMAND_RUNS[request.sub](request.ctx, pipeline);
  } catch (err) {
    writeLine(io.stderr, `dlq ${request.sub}: ${redactedMessage(err)}`);
    return EXIT_FAILURE;
  } finally {
    await pipeline.close();
  }
};

/** The subcommand and its context, or the exit code when the arguments are wrong (usage printed). */
function parseRequest(args: readonly string[], io: CliIo): { sub: Subcommand; ctx: Context } | number {
  const parsed = parseCommandArgs(args, OPTIONS, io, 'dlq', USAGE);
  if (typeof parsed === 'number') return parsed;
  if (flag(parsed, 'help')) {
    writeLine(io.stdout, USAGE);
    return EXIT_OK;
  }
  const [sub, ...ids] = parsed.positionals;
  if (!isSubcommand(sub)) return usageError(io, sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  const query = buildQuery(parsed);
  if (typeof query === 'string') return usageError(io, query);
  const problem = checkArgs(sub, ids, parsed);
  if (problem) return usageError(io, problem);
  return { sub, ctx: { io, parsed, ids, query, json: flag(parsed, 'json') } };
}

function isSubcommand(value: string | undefined): value is Subcommand {
  return SUBCOMMANDS.includes(value as Subcommand);
}

function usageError(io: CliIo, message: string): number {
  writeLine(io.stderr, `dlq: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

function buildQuery(parsed: Parsed): DeadLetterQuery | string {
  const type = typeOption(parsed);
  if (typeof type === 'object') return type.error;
  const sinceMs = sinceOption(parsed);
  if (typeof sinceMs === 'object') return sinceMs.error;
  const limitText = stringOption(parsed, 'limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    return '--limit must be a positive integer';
  return { type, sinceMs, limit };
}

function checkArgs(sub: Subcommand, ids: readonly string[], parsed: Parsed): string | undefined {
  if (sub === 'show' && ids.length !== 1) return 'show takes exactly one entry id';
  if (sub === 'list' && ids.length > 0) return 'list takes no ids (use show <id>)';
  const timeout = stringOption(parsed, 'timeout');
  if (timeout !== undefined && !(Number(timeout) > 0))
    return '--timeout must be a positive number of seconds';
  return undefined;
}

// --- list / show / replay ---------------------------------------------------------------------

async function list(ctx: Context, pipeline: Pipeline): Promise<number> {
  writeLine(ctx.io.stdout, entriesText(await pipeline.deadLetters.list(ctx.query), ctx.json));
  return EXIT_OK;
}

async function show(ctx: Context, pipeline: Pipeline): Promise<number> {
  const id = ctx.ids[0] ?? '';
  const entry = await pipeline.deadLetters.get(id);
  if (!entry) {
    writeLine(ctx.io.stderr, `dlq show: no entry ${id}`);
    return EXIT_FAILURE;
  }
  writeLine(ctx.io.stdout, entryText(entry, ctx.json));
  return EXIT_OK;
}

async function replay(ctx: Context, pipeline: Pipeline): Promise<number> {
  const { found, missing } = await chooseEntries(pipeline, ctx.ids, ctx.query);
  let results: ReplayResult[] = missing.map(id => ({ id, status: 'not_found' as const }));
  for (const entry of found) results.push(await replayEntry(pipeline, entry));
  const wait = flag(ctx.parsed, 'wait');
  if (wait)
    results = await withOutcomes(pipeline, results, Number(stringOption(ctx.parsed, 'timeout') ?? 60) * 1000);
  writeLine(ctx.io.stdout, replayText(results, ctx.json, wait));
  const ok = results.every(r => r.status === 'replayed' && (r.outcomes ?? []).every(o => o === 'completed'));
  return ok ? EXIT_OK : EXIT_FAILURE;
}

// --- purge ------------------------------------------------------------------------------------

async function purge(ctx: Context, pipeline: Pipeline): Promise<number> {
  const { found, missing } = await chooseEntries(pipeline, ctx.ids, ctx.query);
  for (const id of missing) writeLine(ctx.io.stderr, `dlq purge: no entry ${id}`);
  if (found.length === 0) {
    if (ctx.json) writeLine(ctx.io.stdout, JSON.stringify({ removed: 0 }));
    else writeLine(ctx.io.stdout, 'no dead-letter entries match; nothing purged');
    return missing.length > 0 ? EXIT_FAILURE : EXIT_OK;
  }
  if (!flag(ctx.parsed, 'yes')) {
    if (!isInteractive(ctx.io.stdin)) {
      writeLine(
        ctx.io.stderr,
        `dlq purge: refusing to delete ${found.length} entr${found.length === 1 ? 'y' : 'ies'} without confirmation; ` +
          'stdin is not a terminal, so pass --yes',
      );
      return EXIT_FAILURE;
    }
    const question = `Delete ${found.length} dead-letter entr${found.length === 1 ? 'y' : 'ies'}${describeQuery(ctx)}? [y/N] `;
    if (!(await confirm(ctx.io, question))) {
      writeLine(ctx.io.stderr, 'dlq purge: aborted, nothing deleted');
      return EXIT_FAILURE;
    }
  }
  const removed = await pipeline.deadLetters.remove(found.map(e => e.id));
  if (ctx.json) writeLine(ctx.io.stdout, JSON.stringify({ removed }));
  else writeLine(ctx.io.stdout, `purged ${removed} entr${removed === 1 ? 'y' : 'ies'}`);
  return missing.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

function describeQuery(ctx: Context): string {
  const parts: string[] = [];
  if (ctx.ids.length > 0) parts.push(`ids ${ctx.ids.join(', ')}`);
  if (ctx.query.type) parts.push(`type ${ctx.query.type}`);
  if (ctx.query.sinceMs !== undefined) parts.push(`since ${new Date(ctx.query.sinceMs).toISOString()}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

const SUBCOMMAND_RUNS: Record<Subcommand, (ctx: Context, pipeline: Pipeline) => Promise<number>> = {
  list,
  show,
  replay,
  purge,
};
