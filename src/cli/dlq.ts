import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { redact, redactedMessage, redactText } from '../observability/redact.js';
import type { DeadLetterQuery } from '../pipeline/dead-letter-store.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { DeadLetterEntry, ReceiptEnvelope } from '../receipts/envelope.js';
import type { JobOutcome } from '../contracts/pipeline.js';
import { decodeSmqBody, parsePushBody } from '../receipts/decode.js';
import { defaultDedupeKey, jobIdFor } from '../receipts/dedupe.js';
import type { MessageType } from '../receipts/types.js';
import { validateReceipt } from '../receipts/validate.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  clip,
  flag,
  loadCommandConfig,
  openAdminPipeline,
  parseCommandArgs,
  sinceOption,
  stringOption,
  table,
  typeOption,
  type Parsed,
} from './args.js';
import { writeLine, type CliIo, type Command } from './io.js';

const USAGE = `Usage: cams-receipts dlq <list|show|replay|purge> [options]

Works on the dead-letter store: receipts that could not be decoded, validated or processed.

  dlq list   [--type T] [--since ISO] [--limit N]      list entries, oldest first
  dlq show   <id>                                       print one entry in full (secrets redacted)
  dlq replay [ids…] [--type T] [--since ISO] [--wait]   run the receipts through their handlers again
  dlq purge  [ids…] [--type T] [--since ISO] [--yes]    delete entries (asks first unless --yes)

Options:
  --config <dir>   configuration directory (default: ./config)
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
  const parsed = parseCommandArgs(args, OPTIONS, io, 'dlq', USAGE);
  if (typeof parsed === 'number') return parsed;
  if (flag(parsed, 'help')) {
    writeLine(io.stdout, USAGE);
    return EXIT_OK;
  }
  const [sub, ...ids] = parsed.positionals;
  if (!SUBCOMMANDS.includes(sub as Subcommand)) {
    return usageError(io, sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  }
  const query = buildQuery(parsed);
  if (typeof query === 'string') return usageError(io, query);
  const problem = checkArgs(sub as Subcommand, ids, parsed);
  if (problem) return usageError(io, problem);

  const config = loadCommandConfig(io, stringOption(parsed, 'config'));
  if (!config) return EXIT_FAILURE;
  const ctx: Context = { io, parsed, ids, query, json: flag(parsed, 'json') };
  let pipeline: Pipeline;
  try {
    pipeline = await openAdminPipeline(config, { completions: sub === 'replay' && flag(parsed, 'wait') });
  } catch (err) {
    writeLine(io.stderr, `dlq: ${redactedMessage(err)}`);
    return EXIT_FAILURE;
  }
  try {
    switch (sub as Subcommand) {
      case 'list':
        return await list(ctx, pipeline);
      case 'show':
        return await show(ctx, pipeline);
      case 'replay':
        return await replay(ctx, pipeline);
      case 'purge':
        return await purge(ctx, pipeline);
    }
  } catch (err) {
    writeLine(io.stderr, `dlq ${sub}: ${redactedMessage(err)}`);
    return EXIT_FAILURE;
  } finally {
    await pipeline.close();
  }
};

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

// --- list / show ------------------------------------------------------------------------------

async function list(ctx: Context, pipeline: Pipeline): Promise<number> {
  const entries = await pipeline.deadLetters.list(ctx.query);
  if (ctx.json) {
    writeLine(ctx.io.stdout, JSON.stringify({ count: entries.length, entries: entries.map(safeEntry) }));
    return EXIT_OK;
  }
  if (entries.length === 0) {
    writeLine(ctx.io.stdout, 'no dead-letter entries match');
    return EXIT_OK;
  }
  const rows = entries.map(e => [
    e.id,
    new Date(e.atMs).toISOString(),
    e.messageType,
    e.reason,
    clip(redactText(e.error), 60),
    clip(keyFields(e), 60),
  ]);
  writeLine(ctx.io.stdout, table(['ID', 'TIME', 'TYPE', 'REASON', 'ERROR', 'KEY'], rows));
  writeLine(ctx.io.stdout, `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
  return EXIT_OK;
}

async function show(ctx: Context, pipeline: Pipeline): Promise<number> {
  const id = ctx.ids[0] ?? '';
  const entry = await pipeline.deadLetters.get(id);
  if (!entry) {
    writeLine(ctx.io.stderr, `dlq show: no entry ${id}`);
    return EXIT_FAILURE;
  }
  writeLine(ctx.io.stdout, JSON.stringify(safeEntry(entry), null, ctx.json ? undefined : 2));
  return EXIT_OK;
}

/** What identifies the receipt: its dedupe key, or the SMQ MessageId of a body that was not one. */
export function keyFields(entry: DeadLetterEntry): string {
  if (entry.receipt) {
    try {
      return defaultDedupeKey(entry.messageType, entry.receipt);
    } catch {
      // An entry written by another version: fall through to the metadata.
    }
  }
  const messageId = entry.smq?.['MessageId'];
  if (messageId !== undefined) return `SMQ MessageId ${String(messageId)}`;
  return entry.queueName ? `queue ${entry.queueName}` : '-';
}

/** The entry with secret-named fields and signed-URL fragments removed, for printing. */
function safeEntry(entry: DeadLetterEntry): DeadLetterEntry {
  const clean = redact(entry);
  return {
    ...clean,
    error: redactText(clean.error),
    ...(clean.raw === undefined ? {} : { raw: redactRaw(clean.raw) }),
  };
}

/** A raw body that is JSON has its secret-named fields redacted too, not only signed-URL fragments. */
function redactRaw(raw: string): string {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null) return redactText(JSON.stringify(redact(parsed)));
  } catch {
    // Not JSON: scrub it as text.
  }
  return redactText(raw);
}

// --- replay -----------------------------------------------------------------------------------

type ReplayStatus = 'replayed' | 'kept' | 'not_found' | 'failed';

interface ReplayResult {
  readonly id: string;
  readonly status: ReplayStatus;
  readonly messageType?: MessageType;
  readonly jobIds?: readonly string[];
  /** With --wait: how each job ended. */
  readonly outcomes?: readonly (JobOutcome | 'timeout')[];
  readonly error?: string;
}

async function replay(ctx: Context, pipeline: Pipeline): Promise<number> {
  const entries = await chosenEntries(ctx, pipeline);
  const results: ReplayResult[] = [...entries.missing.map(id => ({ id, status: 'not_found' as const }))];
  const wait = flag(ctx.parsed, 'wait');
  const timeoutMs = Number(stringOption(ctx.parsed, 'timeout') ?? 60) * 1000;
  for (const entry of entries.found) {
    const result = await replayOne(entry, pipeline);
    results.push(result);
  }
  if (wait) await waitForOutcomes(results, pipeline, timeoutMs);
  report(ctx, results);
  const ok = results.every(r => r.status === 'replayed' && (r.outcomes ?? []).every(o => o === 'completed'));
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/** The entries named by id, or every entry the filters match when no id is given. */
async function chosenEntries(
  ctx: Context,
  pipeline: Pipeline,
): Promise<{ found: DeadLetterEntry[]; missing: string[] }> {
  if (ctx.ids.length === 0) return { found: await pipeline.deadLetters.list(ctx.query), missing: [] };
  const found: DeadLetterEntry[] = [];
  const missing: string[] = [];
  for (const id of ctx.ids) {
    const entry = await pipeline.deadLetters.get(id);
    if (entry && matches(entry, ctx.query)) found.push(entry);
    else missing.push(id);
  }
  return { found, missing };
}

function matches(entry: DeadLetterEntry, query: DeadLetterQuery): boolean {
  return (
    (!query.type || entry.messageType === query.type) &&
    (query.sinceMs === undefined || entry.atMs >= query.sinceMs)
  );
}

/**
 * Puts the entry's receipts back into BullMQ under their usual job ids, then removes the entry. The
 * finished job of the failed attempt is removed first, or BullMQ would treat the add as a duplicate.
 */
async function replayOne(entry: DeadLetterEntry, pipeline: Pipeline): Promise<ReplayResult> {
  const base = { id: entry.id, messageType: entry.messageType };
  const envelopes = envelopesOf(entry);
  if (typeof envelopes === 'string') return { ...base, status: 'kept', error: envelopes };
  try {
    const jobIds = envelopes.map(e => jobIdFor(e.messageType, defaultDedupeKey(e.messageType, e.receipt)));
    for (const [i, jobId] of jobIds.entries()) {
      await clearFinishedJob(pipeline, envelopes[i]?.messageType ?? entry.messageType, jobId);
    }
    await pipeline.sink.submit(envelopes);
    await pipeline.deadLetters.remove([entry.id]);
    return { ...base, status: 'replayed', jobIds };
  } catch (err) {
    return { ...base, status: 'failed', error: redactedMessage(err) };
  }
}

/** The receipts to replay, or why there are none. Bodies that were not receipts are decoded again. */
function envelopesOf(entry: DeadLetterEntry): ReceiptEnvelope[] | string {
  const common = {
    messageType: entry.messageType,
    source: entry.source,
    queueName: entry.queueName,
    originTimeMs: Date.now(),
  };
  // Handlers ran (and failed) on a receipt that was parked whole: they may run again.
  if (entry.receipt) return [{ ...common, receipt: entry.receipt, redelivered: true }];
  if (entry.raw === undefined) return 'the entry holds neither a receipt nor the raw body';
  let items: unknown[];
  try {
    items = entry.source === 'http' ? parsePushBody(entry.raw) : decodeSmqBody(entry.raw);
  } catch (err) {
    return `still not decodable: ${redactedMessage(err)}`;
  }
  const envelopes: ReceiptEnvelope[] = [];
  for (const [index, item] of items.entries()) {
    const result = validateReceipt(entry.messageType, item);
    if (!result.ok) return `still invalid${items.length > 1 ? ` (item ${index})` : ''}: ${result.reason}`;
    envelopes.push({ ...common, receipt: result.receipt });
  }
  return envelopes.length > 0 ? envelopes : 'the body holds no receipt';
}

/** Removes a finished job with this id (and its finished marker), so the id can carry the replay. */
async function clearFinishedJob(pipeline: Pipeline, type: MessageType, jobId: string): Promise<void> {
  const job = await pipeline.queues.get(type).getJob(jobId);
  if (job) {
    const state = await job.getState();
    // A job still waiting or running will process the receipt anyway; leave it alone.
    if (state !== 'completed' && state !== 'failed') return;
    await job.remove();
  }
  await pipeline.redis.del(pipeline.keys.finished(type, jobId));
}

async function waitForOutcomes(
  results: ReplayResult[],
  pipeline: Pipeline,
  timeoutMs: number,
): Promise<void> {
  const completions = pipeline.completions;
  if (!completions) return;
  const signal = AbortSignal.timeout(timeoutMs);
  await Promise.all(
    results.map(async (r, i) => {
      if (r.status !== 'replayed' || !r.messageType) return;
      const type = r.messageType;
      const outcomes = await Promise.all(
        (r.jobIds ?? []).map(jobId =>
          completions.wait(type, jobId, signal).catch((): JobOutcome | 'timeout' => 'timeout'),
        ),
      );
      results[i] = { ...r, outcomes };
    }),
  );
}

function report(ctx: Context, results: readonly ReplayResult[]): void {
  if (ctx.json) {
    writeLine(ctx.io.stdout, JSON.stringify({ results }));
    return;
  }
  if (results.length === 0) {
    writeLine(ctx.io.stdout, 'no dead-letter entries match');
    return;
  }
  for (const r of results) {
    const outcome = r.outcomes ? ` → ${r.outcomes.join(', ')}` : '';
    const detail = r.error ? `: ${redactText(r.error)}` : r.jobIds ? ` as job ${r.jobIds.join(', ')}` : '';
    writeLine(ctx.io.stdout, `${r.id}  ${r.status}${detail}${outcome}`);
  }
  const replayed = results.filter(r => r.status === 'replayed').length;
  const note = replayed > 0 && !flag(ctx.parsed, 'wait') ? " (the daemon's workers run them)" : '';
  writeLine(ctx.io.stdout, `${replayed} of ${results.length} replayed${note}`);
}

// --- purge ------------------------------------------------------------------------------------

async function purge(ctx: Context, pipeline: Pipeline): Promise<number> {
  const { found, missing } = await chosenEntries(ctx, pipeline);
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

function isInteractive(stdin: Readable): boolean {
  return (stdin as Readable & { isTTY?: boolean }).isTTY === true;
}

/** Asks on stderr and reads one line from stdin; anything but y/yes is a no. */
async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    const answer = await new Promise<string>(resolve => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
      io.shutdown.addEventListener('abort', () => resolve(''), { once: true });
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
