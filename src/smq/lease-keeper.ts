import type { LeaseLossReason } from '../contracts/telemetry.js';
import type { Logger } from '../observability/logger.js';
import { toSmqError } from './classify.js';
import { SafeEmitter } from './safe-emitter.js';
import type { SmqMessage, SmqQueueClient } from './types.js';

/** One received message whose visibility the keeper holds. */
export interface Lease {
  readonly messageId: string;
  readonly receivedAtMs: number;
  /** Why the lease was interrupted: it was lost (its handle died), or the keeper interrupted every lease. */
  readonly interruptedBy: Error | undefined;
  /**
   * Rejects with that reason, and never resolves: whoever waits on the message races it, and stops. A
   * promise rather than an AbortSignal: one lease per message in flight, and a signal costs far more.
   */
  readonly interrupted: Promise<never>;
}

export interface LeaseKeeperEvents {
  extended: [{ messageId: string; nextVisibleTimeMs: number }];
  expired: [{ messageId: string; reason: LeaseLossReason }];
  extend_failed: [{ messageId: string; errorClass: string; code?: string }];
}

export interface LeaseKeeperOptions {
  readonly client: SmqQueueClient;
  /** Visibility asked for on each extension. */
  readonly visibilityTimeoutSeconds: number;
  /** Extend when the message would become visible again within this long. */
  readonly leaseLeadMs: number;
  /** Stop extending this long after receipt; the message then redelivers. */
  readonly maxLeaseMs: number;
  /** How often the single timer looks at every lease. */
  readonly tickMs?: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

class LeaseState implements Lease {
  readonly interrupted: Promise<never>;
  interruptedBy: Error | undefined;
  #reject: (reason: Error) => void = () => undefined;
  handle: string;
  nextVisibleTimeMs: number;
  /** The extension in flight; release waits for it so the delete uses the handle it returns. */
  pending?: Promise<void>;
  retryAtMs = 0;
  released = false;
  lost = false;

  constructor(
    readonly messageId: string,
    readonly receivedAtMs: number,
    message: SmqMessage,
  ) {
    this.handle = message.receiptHandle;
    this.nextVisibleTimeMs = message.nextVisibleTimeMs;
    this.interrupted = new Promise<never>((_, reject) => (this.#reject = reject));
    // Interrupted while nobody waits on it: not an unhandled rejection.
    this.interrupted.catch(() => undefined);
  }

  interrupt(reason: Error): void {
    if (this.interruptedBy) return;
    this.interruptedBy = reason;
    this.#reject(reason);
  }
}

/**
 * Keeps received messages invisible while they are processed. One timer scans every lease; a lease whose
 * NextVisibleTime is within `leaseLeadMs` gets a ChangeMessageVisibility, and the handle it returns
 * replaces the old one (which is now dead). Total lease time is measured from receipt, never from the
 * last extension, and is capped by `maxLeaseMs`.
 */
export class LeaseKeeper extends SafeEmitter<LeaseKeeperEvents> {
  readonly #client: SmqQueueClient;
  readonly #visibilitySeconds: number;
  readonly #leadMs: number;
  readonly #maxLeaseMs: number;
  readonly #tickMs: number;
  readonly #now: () => number;
  readonly #leases = new Set<LeaseState>();
  #timer?: NodeJS.Timeout;
  /** How far the server clock runs ahead of ours (≥ 0), learned from extensions. */
  #serverAheadMs = 0;

  constructor(options: LeaseKeeperOptions) {
    super(options.logger);
    if (options.leaseLeadMs >= options.visibilityTimeoutSeconds * 1000) {
      throw new RangeError(
        `Expected leaseLeadMs < visibilityTimeoutSeconds·1000, got ${options.leaseLeadMs} and ${options.visibilityTimeoutSeconds}`,
      );
    }
    this.#client = options.client;
    this.#visibilitySeconds = options.visibilityTimeoutSeconds;
    this.#leadMs = options.leaseLeadMs;
    this.#maxLeaseMs = options.maxLeaseMs;
    this.#tickMs = options.tickMs ?? Math.min(1000, Math.max(50, Math.floor(options.leaseLeadMs / 4)));
    this.#now = options.now ?? Date.now;
  }

  /** Leases currently held. */
  get size(): number {
    return this.#leases.size;
  }

  /** Starts holding a just-received message. */
  track(message: SmqMessage): Lease {
    const lease = new LeaseState(message.messageId, this.#now(), message);
    this.#leases.add(lease);
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs);
    return lease;
  }

  /**
   * Stops holding the message and returns its newest receipt handle for deletion, or undefined when the
   * lease was lost and the message will redeliver. Waits for an extension in flight, so the handle is
   * never one that extension just replaced.
   */
  async release(lease: Lease): Promise<string | undefined> {
    const state = lease as LeaseState;
    state.released = true;
    this.#forget(state);
    await state.pending;
    if (state.lost || this.#now() >= this.#deadline(state)) return undefined;
    return state.handle;
  }

  /**
   * Gives the message back: it becomes visible again in `visibleInSeconds` instead of whenever its
   * current visibility ends. Failures are logged only, since the message redelivers either way.
   */
  async releaseForRedelivery(lease: Lease, visibleInSeconds: number): Promise<void> {
    const handle = await this.release(lease);
    if (!handle) return;
    try {
      await this.#client.changeVisibility(handle, Math.max(1, Math.ceil(visibleInSeconds)));
    } catch (err) {
      this.logger.debug('could not shorten visibility', {
        event: 'lease_return_failed',
        messageId: lease.messageId,
        error: toSmqError(err, 'changeVisibility').message,
      });
    }
  }

  /**
   * Interrupts every lease held, so whoever waits on those messages stops (the drain deadline passed). The
   * leases are not lost: they are still released, and extended until then.
   */
  interruptAll(): void {
    for (const lease of this.#leases) lease.interrupt(new Error('stopping'));
  }

  /** Forgets every lease (shutdown); unfinished messages redeliver when their visibility ends. */
  stop(): void {
    for (const lease of this.#leases) lease.released = true;
    this.#leases.clear();
    this.#stopTimer();
  }

  #tick(): void {
    const now = this.#now();
    for (const lease of this.#leases) {
      if (lease.pending || now < lease.retryAtMs) continue;
      const deadline = this.#deadline(lease);
      const pastMax = now - lease.receivedAtMs >= this.#maxLeaseMs;
      if (now >= deadline) this.#lose(lease, pastMax ? 'max_lease' : 'visibility_passed');
      else if (deadline - now <= this.#leadMs && !pastMax) lease.pending = this.#extend(lease, now);
    }
  }

  async #extend(lease: LeaseState, startedAtMs: number): Promise<void> {
    // Never ask for more than what is left of maxLeaseMs: the lease ends on time, not up to one visibility late.
    const leftMs = lease.receivedAtMs + this.#maxLeaseMs - startedAtMs;
    const seconds = Math.max(1, Math.min(this.#visibilitySeconds, Math.ceil(leftMs / 1000)));
    try {
      const res = await this.#client.changeVisibility(lease.handle, seconds);
      lease.handle = res.receiptHandle;
      lease.nextVisibleTimeMs = res.nextVisibleTimeMs;
      this.#learnClock(res.nextVisibleTimeMs - seconds * 1000, startedAtMs);
      this.emitSafely('extended', { messageId: lease.messageId, nextVisibleTimeMs: res.nextVisibleTimeMs });
    } catch (err) {
      const error = toSmqError(err, 'changeVisibility');
      if (error.smqCode === 'MessageNotExist' || error.smqCode === 'ReceiptHandleError') {
        this.#lose(lease, 'handle_lost');
      } else {
        lease.retryAtMs = this.#now() + this.#tickMs;
        this.logger.warn('lease extension failed', {
          event: 'lease_extend_failed',
          messageId: lease.messageId,
          errorClass: error.errorClass,
          error: error.message,
        });
        this.emitSafely('extend_failed', {
          messageId: lease.messageId,
          errorClass: error.errorClass,
          code: error.smqCode,
        });
      }
    } finally {
      lease.pending = undefined;
    }
  }

  /** The local time at which the handle dies: NextVisibleTime is on the server's clock. */
  #deadline(lease: LeaseState): number {
    return lease.nextVisibleTimeMs - this.#serverAheadMs;
  }

  #learnClock(serverTimeMs: number, localSentMs: number): void {
    // The server handled the call after we sent it, so this overestimates how far ahead it is: extensions
    // come early rather than late.
    this.#serverAheadMs = Math.max(0, serverTimeMs - localSentMs);
  }

  #lose(lease: LeaseState, reason: LeaseLossReason): void {
    if (lease.lost) return;
    lease.lost = true;
    this.#forget(lease);
    lease.interrupt(new Error(`lease lost: ${reason}`));
    this.logger.warn('lease lost; the message will redeliver', {
      event: 'lease_expired',
      messageId: lease.messageId,
      reason,
    });
    this.emitSafely('expired', { messageId: lease.messageId, reason });
  }

  #forget(lease: LeaseState): void {
    this.#leases.delete(lease);
    if (this.#leases.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
