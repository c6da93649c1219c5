import type { BatchResult, Handler } from '../contracts/handler.js';
import type { Attempt, ReceiptJobData } from './job.js';
import type { BatchItem, HandlerCalls } from './handler-call.js';

const DEFAULT_MAX_SIZE = 100;
const DEFAULT_LINGER_MS = 10;

interface Waiting extends BatchItem {
  resolve(): void;
  reject(error: unknown): void;
}

interface Open {
  readonly items: Waiting[];
  readonly timer: NodeJS.Timeout;
}

/**
 * Gathers the calls of handlers with `handleBatch`: receipts whose jobs reach the handler within `lingerMs` of
 * the first go over together, up to `maxSize`. Each receipt's call settles on its own, from the batch's result,
 * so its job records or retries it alone.
 */
export class BatchCalls {
  readonly #open = new Map<Handler, Open>();

  constructor(private readonly calls: HandlerCalls) {}

  /** Resolves when this receipt's batch handled it; rejects when it was reported failed or the batch threw. */
  call(handler: Handler, data: ReceiptJobData, dedupeKey: string, attempt: Attempt): Promise<void> {
    return new Promise((resolve, reject) => {
      let open = this.#open.get(handler);
      if (!open) {
        const timer = setTimeout(() => this.#flush(handler), handler.batch?.lingerMs ?? DEFAULT_LINGER_MS);
        open = { items: [], timer };
        this.#open.set(handler, open);
      }
      open.items.push({ data, dedupeKey, attempt, resolve, reject });
      if (open.items.length >= (handler.batch?.maxSize ?? DEFAULT_MAX_SIZE)) this.#flush(handler);
    });
  }

  #flush(handler: Handler): void {
    const open = this.#open.get(handler);
    if (!open) return;
    this.#open.delete(handler);
    clearTimeout(open.timer);
    void this.#run(handler, open.items);
  }

  async #run(handler: Handler, items: readonly Waiting[]): Promise<void> {
    let result: unknown;
    try {
      result = await this.calls.callBatch(handler, items);
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    const failed = failures(result, items.length);
    items.forEach((item, i) => (failed.has(i) ? item.reject(failed.get(i)) : item.resolve()));
  }
}

/** The failed indices of a batch result, each with its error. */
function failures(result: unknown, size: number): Map<number, unknown> {
  const out = new Map<number, unknown>();
  const failed = (result as BatchResult | undefined)?.failed;
  if (!Array.isArray(failed)) return out;
  for (const f of failed as BatchResult['failed'] & object) {
    const index = typeof f === 'number' ? f : f.index;
    const error = typeof f === 'number' ? undefined : f.error;
    if (Number.isInteger(index) && index >= 0 && index < size)
      out.set(index, error ?? new Error('failed in its batch (handleBatch reported it)'));
  }
  return out;
}
