import type { DeadLetterEntry } from '../receipts/envelope.js';
import { redact, redactText } from '../observability/redact.js';
import type { ReplayResult } from '../pipeline/replay.js';
import { defaultDedupeKey } from '../receipts/dedupe.js';
import { clip, table } from './table.js';

/** The entries as `dlq list` prints them: a table, or one JSON object. */
export function entriesText(entries: readonly DeadLetterEntry[], json: boolean): string {
  if (json) return JSON.stringify({ count: entries.length, entries: entries.map(safeEntry) });
  if (entries.length === 0) return 'no dead-letter entries match';
  const rows = entries.map(e => [
    e.id,
    new Date(e.atMs).toISOString(),
    e.messageType,
    e.reason,
    clip(redactText(e.error), 60),
    clip(keyFields(e), 60),
  ]);
  const count = `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`;
  return `${table(['ID', 'TIME', 'TYPE', 'REASON', 'ERROR', 'KEY'], rows)}\n${count}`;
}

/** One entry in full, as `dlq show` prints it. */
export function entryText(entry: DeadLetterEntry, json: boolean): string {
  return JSON.stringify(safeEntry(entry), null, json ? undefined : 2);
}

/** The results of a replay, one line each and a count, or one JSON object. */
export function replayText(results: readonly ReplayResult[], json: boolean, waited: boolean): string {
  if (json) return JSON.stringify({ results });
  if (results.length === 0) return 'no dead-letter entries match';
  const lines = results.map(r => {
    const outcome = r.outcomes ? ` → ${r.outcomes.join(', ')}` : '';
    const detail = r.error ? `: ${redactText(r.error)}` : r.jobIds ? ` as job ${r.jobIds.join(', ')}` : '';
    return `${r.id}  ${r.status}${detail}${outcome}`;
  });
  const replayed = results.filter(r => r.status === 'replayed').length;
  const note = replayed > 0 && !waited ? " (the daemon's workers run them)" : '';
  return [...lines, `${replayed} of ${results.length} replayed${note}`].join('\n');
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
