import { createHash } from 'node:crypto';
import type { DeadLetterInput, ReceiptEnvelope } from '../receipts/envelope.js';
import type { DeadLetterSink, ReceiptSink } from '../contracts/pipeline.js';
import { intakeBody, type ItemIntake } from '../receipts/intake.js';
import type { MessageType } from '../receipts/types.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/async.js';

export interface BatchStores {
  readonly sink: ReceiptSink;
  readonly deadLetters: DeadLetterSink;
  /** Give up (and let CAMS retry) when Redis has not acknowledged everything within this long. */
  readonly storeTimeoutMs: number;
}

/** What became of one pushed body. */
export type BatchOutcome =
  /** Every valid receipt is in BullMQ and every invalid item in the dead-letter store. */
  | { readonly kind: 'stored'; readonly receipts: number; readonly invalid: readonly InvalidItem[] }
  /** The body is not a JSON array or object; nothing was stored. */
  | { readonly kind: 'not_json'; readonly reason: string }
  /** Redis did not acknowledge in time; some items may be stored, dedupe absorbs the retry. */
  | {
      readonly kind: 'store_failed';
      readonly receipts: number;
      readonly invalid: readonly InvalidItem[];
      readonly error: string;
    };

export interface InvalidItem {
  readonly index: number;
  readonly reason: string;
}

interface SortedItems {
  readonly envelopes: ReceiptEnvelope[];
  readonly parked: DeadLetterInput[];
  readonly invalid: InvalidItem[];
}

/**
 * Parses one push body of `type`, validates each item, and stores the batch: valid receipts into the
 * pipeline, invalid items into the dead-letter store. Never throws.
 */
export async function acceptBatch(
  type: MessageType,
  body: string,
  arrivalMs: number,
  stores: BatchStores,
): Promise<BatchOutcome> {
  const intake = intakeBody(type, body, { source: 'http', originTimeMs: arrivalMs });
  if (!intake.decoded) return { kind: 'not_json', reason: intake.reason };
  const sorted = sortItems(type, intake.items);
  const receipts = sorted.envelopes.length;
  try {
    await withTimeout(
      store(sorted, stores),
      stores.storeTimeoutMs,
      `Redis did not acknowledge within ${stores.storeTimeoutMs} ms`,
      // A store still pending at exit must not keep the process alive.
      { unref: true },
    );
  } catch (err) {
    return { kind: 'store_failed', receipts, invalid: sorted.invalid, error: errorMessage(err) };
  }
  return { kind: 'stored', receipts, invalid: sorted.invalid };
}

function sortItems(type: MessageType, items: readonly ItemIntake[]): SortedItems {
  const out: SortedItems = { envelopes: [], parked: [], invalid: [] };
  for (const entry of items) {
    if ('envelope' in entry) {
      out.envelopes.push(entry.envelope);
      continue;
    }
    out.invalid.push({ index: entry.index, reason: entry.reason });
    const raw = JSON.stringify(entry.item);
    out.parked.push({
      messageType: type,
      source: 'http',
      reason: 'invalid',
      error: entry.reason,
      raw,
      // CAMS retries a batch after a 503 even if part of it was stored: the same item keeps one entry.
      id: `http-${createHash('sha256').update(`${type}\n${raw}`).digest('hex').slice(0, 32)}`,
    });
  }
  return out;
}

async function store(sorted: SortedItems, stores: BatchStores): Promise<void> {
  const writes: Promise<unknown>[] = sorted.parked.map(entry => stores.deadLetters.park(entry));
  if (sorted.envelopes.length > 0) writes.push(stores.sink.submit(sorted.envelopes));
  await Promise.all(writes);
}
