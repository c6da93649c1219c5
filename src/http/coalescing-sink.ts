import type { ReceiptEnvelope, ReceiptSink, SubmitResult } from '../pipeline/types.js';

interface Waiter {
  readonly envelopes: readonly ReceiptEnvelope[];
  readonly resolve: (results: SubmitResult[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit for pushes: the receipts of requests that arrive in the same event-loop turn go to Redis
 * in one `submit`, so concurrent pushes share one round trip and one transaction instead of paying for
 * one each. A lone request is flushed at the end of its own turn, so it waits for nobody. Each caller's
 * promise settles with the shared write: resolved only once Redis acknowledged it, rejected (every
 * caller of the group) when it failed.
 */
export class CoalescingSink implements ReceiptSink {
  private waiters: Waiter[] = [];
  private waiting = 0;
  private scheduled = false;

  /**
   * @param inner Must return one result per envelope, in order.
   * @param maxReceipts A group is flushed at once when it reaches this many receipts.
   */
  constructor(
    private readonly inner: ReceiptSink,
    private readonly maxReceipts = 1000,
  ) {}

  submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    if (envelopes.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiters.push({ envelopes, resolve, reject });
      this.waiting += envelopes.length;
      if (this.waiting >= this.maxReceipts) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const group = this.waiters;
    if (group.length === 0) return;
    this.waiters = [];
    this.waiting = 0;
    const all = group.length === 1 ? group[0]!.envelopes : group.flatMap(w => w.envelopes);
    let write: Promise<SubmitResult[]>;
    try {
      write = this.inner.submit(all);
    } catch (err) {
      write = Promise.reject(err);
    }
    write.then(
      results => {
        let offset = 0;
        for (const w of group) {
          w.resolve(results.slice(offset, offset + w.envelopes.length));
          offset += w.envelopes.length;
        }
      },
      (err: unknown) => {
        for (const w of group) w.reject(err);
      },
    );
  }
}
