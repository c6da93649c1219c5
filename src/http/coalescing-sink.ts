import type { ReceiptEnvelope } from '../receipts/envelope.js';
import type { ReceiptSink, SubmitResult } from '../contracts/pipeline.js';
import { TurnBatcher } from '../util/turn-batcher.js';

/**
 * Group commit for pushes: the receipts of requests that arrive in the same event-loop turn go to Redis
 * in one `submit`, so concurrent pushes share one round trip and one transaction instead of paying for
 * one each. Each caller's promise settles with the shared write: resolved only once Redis acknowledged
 * it, rejected (every caller of the group) when it failed.
 */
export class CoalescingSink implements ReceiptSink {
  readonly #batcher: TurnBatcher<ReceiptEnvelope, SubmitResult>;

  /**
   * @param inner Must return one result per envelope, in order.
   * @param maxReceipts A group is flushed at once when it reaches this many receipts.
   */
  constructor(inner: ReceiptSink, maxReceipts = 1000) {
    this.#batcher = new TurnBatcher(envelopes => inner.submit(envelopes), { maxItems: maxReceipts });
  }

  submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    return this.#batcher.addAll(envelopes);
  }
}
