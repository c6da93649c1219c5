/** Fewer receipts than this left over every queue counts as keeping up: no progress lines. */
export const BACKLOG_LINE_THRESHOLD = 1000;

/** What one sample says about a draining backlog. */
export type DrainReport =
  | {
      readonly kind: 'progress';
      /** Receipts left: BullMQ waiting and delayed jobs, plus SMQ messages not yet received. */
      readonly left: number;
      /** Jobs this process completed per second since the last sample. */
      readonly ratePerSecond: number;
      /** How fast `left` went down per second, over every process (negative when it grows). */
      readonly netRatePerSecond: number;
      /** At the net rate, when it goes down. */
      readonly etaSeconds?: number;
    }
  | { readonly kind: 'drained'; readonly left: number };

interface Sample {
  readonly left: number;
  readonly processed: number;
  readonly atMs: number;
}

/** Turns successive (left, processed) samples into progress lines while a backlog drains. */
export class DrainProgress {
  #last: Sample | undefined;
  #draining = false;

  constructor(private readonly threshold = BACKLOG_LINE_THRESHOLD) {}

  next(left: number, processed: number, atMs: number): DrainReport | undefined {
    const last = this.#last;
    this.#last = { left, processed, atMs };
    if (left < this.threshold) {
      if (!this.#draining) return undefined;
      this.#draining = false;
      return { kind: 'drained', left };
    }
    this.#draining = true;
    if (!last || atMs <= last.atMs) return undefined;
    const seconds = (atMs - last.atMs) / 1000;
    const ratePerSecond = round(Math.max(0, processed - last.processed) / seconds);
    const netRatePerSecond = round((last.left - left) / seconds);
    const etaSeconds = netRatePerSecond > 0 ? Math.round(left / netRatePerSecond) : undefined;
    return { kind: 'progress', left, ratePerSecond, netRatePerSecond, ...(etaSeconds ? { etaSeconds } : {}) };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
