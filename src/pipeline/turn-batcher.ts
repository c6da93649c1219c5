/** Most items one call carries: bounds how long one Lua script holds Redis. */
const MAX_BATCH = 128;

/**
 * Collects the calls made during one turn of the event loop and sends them together on the next
 * (setImmediate), in chunks of at most 128. `send` answers one result per item, in order; when it fails,
 * every call of its chunk fails with its error.
 */
export class TurnBatcher<I, O> {
  private pending: { item: I; resolve: (out: O) => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly send: (items: readonly I[]) => Promise<O[]>) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const chunk = all.slice(i, i + MAX_BATCH);
      this.send(chunk.map(c => c.item)).then(
        out => chunk.forEach((c, j) => c.resolve(out[j] as O)),
        (err: unknown) => chunk.forEach(c => c.reject(err)),
      );
    }
  }
}
