interface Pending<I, O> {
  readonly items: readonly I[];
  readonly resolve: (out: O[]) => void;
  readonly reject: (err: unknown) => void;
}

export interface TurnBatcherOptions {
  /** A batch is sent as soon as it holds this many items, without waiting for the turn to end. @defaultValue 128 */
  readonly maxItems?: number;
}

/**
 * Group commit: collects the calls made during one turn of the event loop and sends their items together
 * at the end of it (setImmediate), or as soon as `maxItems` are waiting. A lone call waits for nobody.
 * `send` answers one result per item, in order; each caller gets its own slice. When a send fails (or
 * throws), every call of its batch fails with that error.
 */
export class TurnBatcher<I, O> {
  readonly #send: (items: readonly I[]) => Promise<O[]>;
  readonly #maxItems: number;
  #pending: Pending<I, O>[] = [];
  #count = 0;
  #scheduled = false;

  constructor(send: (items: readonly I[]) => Promise<O[]>, options: TurnBatcherOptions = {}) {
    this.#send = send;
    this.#maxItems = options.maxItems ?? 128;
  }

  add(item: I): Promise<O> {
    return this.addAll([item]).then(out => out[0] as O);
  }

  /** Sends `items` with the others of this turn; they are never split across two sends. */
  addAll(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      this.#count += items.length;
      if (this.#count >= this.#maxItems) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#count = 0;
    const items = batch.length === 1 ? batch[0]!.items : batch.flatMap(p => p.items);
    let sent: Promise<O[]>;
    try {
      sent = this.#send(items);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      out => {
        let offset = 0;
        for (const p of batch) {
          p.resolve(out.slice(offset, offset + p.items.length));
          offset += p.items.length;
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
