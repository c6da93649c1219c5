import { redactedMessage, redactText } from '../observability/redact.js';
import { defaultDedupeKey, jobIdFor } from '../receipts/dedupe.js';
import type { DeadLetterEntry, ReceiptEnvelope } from '../receipts/envelope.js';
import { envelopeOf, intakeBody } from '../receipts/intake.js';
import type { MessageType } from '../receipts/types.js';
import type { JobOutcome } from '../contracts/pipeline.js';
import type { DeadLetterQuery } from './dead-letter-store.js';
import type { Pipeline } from './pipeline.js';

export type ReplayStatus = 'replayed' | 'kept' | 'not_found' | 'failed';

export interface ReplayResult {
  readonly id: string;
  readonly status: ReplayStatus;
  readonly messageType?: MessageType;
  readonly jobIds?: readonly string[];
  /** With a wait: how each job ended. */
  readonly outcomes?: readonly (JobOutcome | 'timeout')[];
  readonly error?: string;
}

/** The entries named by id, or every entry the filters match when no id is given. */
export async function chooseEntries(
  pipeline: Pipeline,
  ids: readonly string[],
  query: DeadLetterQuery,
): Promise<{ found: DeadLetterEntry[]; missing: string[] }> {
  if (ids.length === 0) return { found: await pipeline.deadLetters.list(query), missing: [] };
  const found: DeadLetterEntry[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const entry = await pipeline.deadLetters.get(id);
    if (entry && matches(entry, query)) found.push(entry);
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
 * Puts the entry's receipts back into BullMQ under their usual job ids, then removes the entry. Replay is
 * idempotent: handlers that already completed a receipt skip it. The finished job of the failed attempt is
 * removed first, or BullMQ would treat the add as a duplicate.
 */
export async function replayEntry(pipeline: Pipeline, entry: DeadLetterEntry): Promise<ReplayResult> {
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

/**
 * The receipts to replay, or why there are none. A receipt parked whole is replayed as it is (handlers ran
 * on it, so it counts as redelivered); a body that was not a receipt goes through intake again.
 */
function envelopesOf(entry: DeadLetterEntry): ReceiptEnvelope[] | string {
  const origin = { source: entry.source, queueName: entry.queueName, originTimeMs: Date.now() };
  if (entry.receipt) return [envelopeOf(entry.messageType, entry.receipt, { ...origin, redelivered: true })];
  if (entry.raw === undefined) return 'the entry holds neither a receipt nor the raw body';
  const intake = intakeBody(entry.messageType, entry.raw, origin);
  if (!intake.decoded) return `still not decodable: ${redactText(intake.reason)}`;
  const envelopes: ReceiptEnvelope[] = [];
  for (const item of intake.items) {
    if ('reason' in item) {
      return `still invalid${intake.items.length > 1 ? ` (item ${item.index})` : ''}: ${item.reason}`;
    }
    envelopes.push(item.envelope);
  }
  return envelopes.length > 0 ? envelopes : 'the body holds no receipt';
}

/** Removes a finished job with this id, so the id can carry the replay. */
async function clearFinishedJob(pipeline: Pipeline, type: MessageType, jobId: string): Promise<void> {
  const job = await pipeline.queues.forJob(type, jobId).getJob(jobId);
  if (job) {
    const state = await job.getState();
    // A job still waiting or running will process the receipt anyway; leave it alone.
    if (state !== 'completed' && state !== 'failed') return;
    await job.remove();
  }
}

/** Each replayed result with how its jobs ended, or `timeout` for a job still unfinished after `timeoutMs`. */
export async function withOutcomes(
  pipeline: Pipeline,
  results: readonly ReplayResult[],
  timeoutMs: number,
): Promise<ReplayResult[]> {
  const completions = pipeline.completions;
  if (!completions) return [...results];
  const signal = AbortSignal.timeout(timeoutMs);
  return Promise.all(
    results.map(async r => {
      const type = r.messageType;
      if (r.status !== 'replayed' || !type) return r;
      const outcomes = await Promise.all(
        (r.jobIds ?? []).map(jobId =>
          completions.wait(type, jobId, signal).catch((): JobOutcome | 'timeout' => 'timeout'),
        ),
      );
      return { ...r, outcomes };
    }),
  );
}
