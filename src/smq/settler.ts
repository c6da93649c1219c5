import type { CompletionSource, DeadLetterSink, ReceiptSink, SubmitResult } from '../contracts/pipeline.js';
import type { ConsumerEvents } from '../contracts/telemetry.js';
import type { Logger } from '../observability/logger.js';
import type { MessageType } from '../receipts/types.js';
import { asError, errorMessage } from '../util/error-message.js';
import type { DeleteBatcher } from './delete-batcher.js';
import type { Delivery } from './delivery.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** What the loop does when Redis refused or took a write. */
export interface StoreOutcomes {
  /** Redis refused `count` messages' receipts: returns how long polling pauses (ms). */
  failed(count: number, err: unknown): number;
  stored(): void;
}

export interface DeliverySettlerOptions {
  readonly messageType: MessageType;
  readonly sink: ReceiptSink;
  readonly deadLetters: DeadLetterSink;
  readonly completions: CompletionSource;
  readonly leases: LeaseKeeper;
  readonly deleter: DeleteBatcher;
  readonly store: StoreOutcomes;
  readonly logger: Logger;
  readonly emit: <K extends keyof ConsumerEvents>(event: K, ...args: ConsumerEvents[K]) => void;
  /** Called once per delivery when it is settled: deleted, handed back or left to redeliver. */
  readonly onSettled: () => void;
  /** True once the drain deadline passed: waits that end now release their messages plainly. */
  readonly hardStopped: () => boolean;
}

/** Messages handed back after a store failure become visible again within this long. */
const STORE_HANDBACK_MAX_MS = 5_000;

/**
 * Takes each batch of received messages to its end: parks what is not a receipt, submits the receipts,
 * waits for their jobs, and deletes the message, or gives it back when something failed on the way. Each
 * message is settled exactly once, whatever happens (a bug included), so its credit comes back once.
 */
export class DeliverySettler {
  readonly #o: DeliverySettlerOptions;

  constructor(options: DeliverySettlerOptions) {
    this.#o = options;
  }

  /** Never rejects: a failure settles the messages it concerns, and a bug lets every unsettled one redeliver. */
  async settle(deliveries: readonly Delivery[]): Promise<void> {
    const once = new SettledOnce(this.#o.onSettled);
    try {
      const { parked, unparked, parkError } = await this.#park(deliveries);
      if (unparked.length > 0) await this.#handBack(unparked, parkError, once);
      for (const d of parked.filter(d => d.envelopes.length === 0)) await this.#complete(d, once);
      const carrying = parked.filter(d => d.envelopes.length > 0);
      if (carrying.length === 0) return;
      const results = await this.#submit(carrying, once);
      if (results) await Promise.all(carrying.map((d, i) => this.#awaitJobs(d, results[i] ?? [], once)));
    } catch (err) {
      this.#bug(err, deliveries, once);
    }
  }

  /** Parks every message's rejects; a message whose park failed is unparked (the store is down). */
  async #park(deliveries: readonly Delivery[]): Promise<{
    parked: Delivery[];
    unparked: Delivery[];
    parkError: unknown;
  }> {
    let parkError: unknown;
    const ok = await Promise.all(
      deliveries.map(d =>
        this.#parkRejects(d).then(
          () => true,
          (err: unknown) => {
            parkError = err;
            return false;
          },
        ),
      ),
    );
    return {
      parked: deliveries.filter((_, i) => ok[i]),
      unparked: deliveries.filter((_, i) => !ok[i]),
      parkError,
    };
  }

  async #parkRejects(d: Delivery): Promise<void> {
    for (const entry of d.rejects) {
      await this.#o.deadLetters.park(entry);
      this.#o.logger.warn('message body is not a valid receipt; dead-lettered', {
        event: 'receipt_dead_lettered',
        reason: entry.reason,
        messageId: d.message.messageId,
        error: entry.error,
      });
      this.#o.emit('dead_lettered', { reason: entry.reason === 'decode' ? 'decode' : 'invalid' });
    }
  }

  /** Submits the receipts of every delivery in one call; returns each delivery's results, in order. */
  async #submit(deliveries: readonly Delivery[], once: SettledOnce): Promise<SubmitResult[][] | undefined> {
    let results: SubmitResult[];
    try {
      results = await this.#o.sink.submit(deliveries.flatMap(d => d.envelopes));
    } catch (err) {
      await this.#handBack(deliveries, err, once);
      return undefined;
    }
    this.#o.store.stored();
    const duplicates = results.filter(r => r.finished).length;
    if (results.length > duplicates) this.#o.emit('enqueued', { count: results.length - duplicates });
    if (duplicates > 0) this.#o.emit('duplicate', { count: duplicates });
    return perDelivery(deliveries, results);
  }

  /**
   * Redis did not take the receipts: nothing is deleted, and the messages are made visible again within a
   * few seconds, so they are retried soon after Redis returns.
   */
  async #handBack(deliveries: readonly Delivery[], err: unknown, once: SettledOnce): Promise<void> {
    const delayMs = this.#o.store.failed(deliveries.length, err);
    const visibleInSeconds = Math.min(Math.max(delayMs, 1000), STORE_HANDBACK_MAX_MS) / 1000;
    await Promise.all(
      deliveries.map(d =>
        this.#o.leases.releaseForRedelivery(d.lease, visibleInSeconds).finally(() => once.settle(d)),
      ),
    );
  }

  /** Waits for every job the message carried, then deletes it. */
  async #awaitJobs(d: Delivery, results: readonly SubmitResult[], once: SettledOnce): Promise<void> {
    // The lease ends the waits when it is lost, or when the drain deadline passes (the loop then interrupts
    // every lease). A wait left behind ends when its job finishes, or when the sweep finds the job gone.
    const { messageType, completions } = this.#o;
    try {
      const waits = results.filter(r => !r.finished).map(r => completions.wait(messageType, r.jobId));
      await Promise.race([Promise.all(waits), d.lease.interrupted]);
    } catch (err) {
      await this.#giveUp(d, err);
      once.settle(d);
      return;
    }
    await this.#complete(d, once);
  }

  /** The wait ended without an outcome: the lease was lost, the loop is stopping, or the job vanished. */
  async #giveUp(d: Delivery, err: unknown): Promise<void> {
    if (this.#o.hardStopped()) {
      await this.#o.leases.release(d.lease);
      return;
    }
    if (d.lease.interruptedBy) return; // the keeper already logged it; the message redelivers
    this.#o.logger.warn('job did not finish; the message will redeliver', {
      event: 'job_lost',
      messageId: d.message.messageId,
      error: errorMessage(err),
    });
    await this.#o.leases.releaseForRedelivery(d.lease, 1);
  }

  async #complete(d: Delivery, once: SettledOnce): Promise<void> {
    try {
      const handle = await this.#o.leases.release(d.lease);
      if (handle) this.#o.deleter.add(handle);
    } finally {
      once.settle(d);
    }
  }

  /** A bug, not an outage: log it, and let the unsettled messages redeliver. */
  #bug(err: unknown, deliveries: readonly Delivery[], once: SettledOnce): void {
    const error = asError(err);
    this.#o.logger.error('message processing failed unexpectedly', {
      event: 'processing_failed',
      error: error.message,
      stack: error.stack,
    });
    this.#o.emit('error', error);
    for (const d of deliveries) {
      if (!once.has(d)) void this.#o.leases.release(d.lease).finally(() => once.settle(d));
    }
  }
}

/** The settled-once rule of one batch: a delivery's credit comes back the first time it is settled, only. */
class SettledOnce {
  readonly #settled = new Set<Delivery>();
  constructor(readonly onSettled: () => void) {}

  has(d: Delivery): boolean {
    return this.#settled.has(d);
  }

  settle(d: Delivery): void {
    if (this.#settled.has(d)) return;
    this.#settled.add(d);
    this.onSettled();
  }
}

/** Splits one submit's results (one per envelope, in order) back into each delivery's share. */
function perDelivery(deliveries: readonly Delivery[], results: readonly SubmitResult[]): SubmitResult[][] {
  const shares: SubmitResult[][] = [];
  let start = 0;
  for (const d of deliveries) {
    const end = start + d.envelopes.length;
    shares.push(results.slice(start, end));
    start = end;
  }
  return shares;
}
