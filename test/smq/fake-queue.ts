import { SmqError } from '../../src/errors.js';
import type { DeleteFailure, SmqMessage, SmqQueueClient } from '../../src/smq/types.js';

interface Stored {
  readonly id: string;
  readonly body: string;
  readonly enqueueTimeMs: number;
  handle?: string;
  nextVisibleTimeMs: number;
  dequeueCount: number;
}

type Op = 'receive' | 'deleteBatch' | 'changeVisibility';

/**
 * An in-memory queue with SMQ's visibility rules (a fresh handle per receive and per
 * ChangeMessageVisibility, old handles dead), for unit tests of the pure-logic parts.
 */
export class FakeQueue implements SmqQueueClient {
  readonly calls: Record<Op, number> = { receive: 0, deleteBatch: 0, changeVisibility: 0 };
  readonly deleteBatches: string[][] = [];
  readonly deleted = new Set<string>();
  /** The visibility asked for by the last ChangeMessageVisibility. */
  lastVisibilitySeconds?: number;
  /** Added to every call, to widen race windows. */
  latencyMs = 0;
  readonly #messages = new Map<string, Stored>();
  readonly #faults: { op: Op; error: Error }[] = [];
  #seq = 0;

  constructor(readonly visibilitySeconds = 30) {}

  send(body: string): string {
    const id = `M${++this.#seq}`;
    this.#messages.set(id, { id, body, enqueueTimeMs: Date.now(), nextVisibleTimeMs: 0, dequeueCount: 0 });
    return id;
  }

  /** The next call of `op` fails with `error`. */
  failNext(op: Op, error: Error, times = 1): void {
    for (let i = 0; i < times; i += 1) this.#faults.push({ op, error });
  }

  /** Messages not deleted. */
  get size(): number {
    return this.#messages.size;
  }

  visibleCount(): number {
    const now = Date.now();
    return [...this.#messages.values()].filter(m => m.nextVisibleTimeMs <= now).length;
  }

  handleOf(id: string): string | undefined {
    return this.#messages.get(id)?.handle;
  }

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<SmqMessage[]> {
    this.calls.receive += 1;
    await this.#enter('receive');
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const now = Date.now();
      const ready = [...this.#messages.values()].filter(m => m.nextVisibleTimeMs <= now).slice(0, max);
      if (ready.length > 0) return ready.map(m => this.#deliver(m, now));
      if (now >= deadline || signal?.aborted) return [];
      await new Promise(r => setTimeout(r, 10));
    }
  }

  async deleteBatch(receiptHandles: readonly string[]): Promise<DeleteFailure[]> {
    this.calls.deleteBatch += 1;
    this.deleteBatches.push([...receiptHandles]);
    await this.#enter('deleteBatch');
    const failures: DeleteFailure[] = [];
    for (const handle of receiptHandles) {
      const m = this.#byLiveHandle(handle);
      if (!m) {
        failures.push({
          receiptHandle: handle,
          errorCode: 'MessageNotExist',
          errorMessage: 'Message not exist.',
        });
        continue;
      }
      this.#messages.delete(m.id);
      this.deleted.add(m.id);
    }
    return failures;
  }

  async changeVisibility(
    receiptHandle: string,
    visibilityTimeoutSeconds: number,
  ): Promise<{ receiptHandle: string; nextVisibleTimeMs: number }> {
    this.calls.changeVisibility += 1;
    this.lastVisibilitySeconds = visibilityTimeoutSeconds;
    await this.#enter('changeVisibility');
    const m = this.#byLiveHandle(receiptHandle);
    if (!m) throw new SmqError('changeVisibility: Message not exist.', 'empty', 'MessageNotExist');
    m.handle = `H${++this.#seq}`;
    m.nextVisibleTimeMs = Date.now() + visibilityTimeoutSeconds * 1000;
    return { receiptHandle: m.handle, nextVisibleTimeMs: m.nextVisibleTimeMs };
  }

  async #enter(op: Op): Promise<void> {
    if (this.latencyMs > 0) await new Promise(r => setTimeout(r, this.latencyMs));
    const index = this.#faults.findIndex(f => f.op === op);
    if (index >= 0) {
      const [fault] = this.#faults.splice(index, 1);
      throw fault?.error;
    }
  }

  #byLiveHandle(handle: string): Stored | undefined {
    const now = Date.now();
    return [...this.#messages.values()].find(m => m.handle === handle && m.nextVisibleTimeMs > now);
  }

  #deliver(m: Stored, now: number): SmqMessage {
    m.handle = `H${++this.#seq}`;
    m.nextVisibleTimeMs = now + this.visibilitySeconds * 1000;
    m.dequeueCount += 1;
    return {
      messageId: m.id,
      receiptHandle: m.handle,
      body: m.body,
      bodyMd5: '',
      enqueueTimeMs: m.enqueueTimeMs,
      firstDequeueTimeMs: now,
      nextVisibleTimeMs: m.nextVisibleTimeMs,
      dequeueCount: m.dequeueCount,
      priority: 8,
    };
  }
}
