import type { ConsumerConfig, SmqConfig } from '../config/types.js';
import type { ConsumerEvents, ConsumerHealth, LoopErrorClass } from '../contracts/telemetry.js';
import { SmqError, TokenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type {
  CompletionSource,
  DeadLetterSink,
  ReceiptSink,
  StoreProbe,
  SubmitResult,
} from '../contracts/pipeline.js';
import { sleep } from '../util/async.js';
import { Backoff } from './backoff.js';
import { classifyLoopError } from './classify.js';
import { DeleteBatcher } from './delete-batcher.js';
import { toDelivery, type Delivery } from './delivery.js';
import { LeaseKeeper } from './lease-keeper.js';
import { SafeEmitter } from './safe-emitter.js';
import type { SmqMessage, SmqQueueClient } from './types.js';
import { asError, errorMessage } from '../util/error-message.js';

export interface SmqConsumerOptions {
  readonly consumer: ConsumerConfig;
  readonly smq: SmqConfig;
  readonly client: SmqQueueClient;
  readonly sink: ReceiptSink;
  /** Probed while the loop waits for the store after a failed submit, so it resumes as soon as Redis is back. */
  readonly storeProbe: StoreProbe;
  readonly completions: CompletionSource;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  /** Injected for tests. */
  readonly random?: () => number;
}

/** With waitSeconds 0 an empty queue answers at once; pause so the loop does not spin. */
const EMPTY_POLL_PAUSE_MS = 1_000;
/** How often a loop paused by a store failure checks whether Redis takes writes again. */
const STORE_PROBE_MS = 500;
/** Messages handed back after a store failure become visible again within this long. */
const STORE_HANDBACK_MAX_MS = 5_000;
/** How long a poll in progress may finish on its own at stop when the queue has a backlog. */
const STOP_POLL_GRACE_MS = 1_000;
/** After the drain deadline, how long chains get to let go of their messages. */
const HARD_STOP_GRACE_MS = 2_000;
/**
 * Receives one loop keeps in flight when the queue has a backlog and the loop is short of work (see
 * #shortOfWork), so it does not sit idle for each round trip. Otherwise one poll at a time (one long
 * poll when the queue is empty, as SMQ recommends).
 */
const BACKLOG_POLLS = 3;

/**
 * One long-polling loop for one (queueName, messageType) pair. It receives only as many messages as it
 * has room for, keeps their leases, hands valid receipts to the sink, and deletes each message once every
 * job it carried has finished. It never throws and never stops on its own: failures are classified,
 * counted and backed off.
 */
export class SmqConsumer extends SafeEmitter<ConsumerEvents> {
  readonly #config: ConsumerConfig;
  readonly #smq: SmqConfig;
  readonly #client: SmqQueueClient;
  readonly #sink: ReceiptSink;
  readonly #storeProbe: StoreProbe;
  readonly #completions: CompletionSource;
  readonly #deadLetters: DeadLetterSink;
  readonly #leases: LeaseKeeper;
  readonly #deleter: DeleteBatcher;
  readonly #pollBackoff: Backoff;
  readonly #storeBackoff: Backoff;
  readonly #maxInFlight: number;
  readonly #batchSize: number;
  readonly #waitSeconds: number;
  /** Cuts the long poll short when stopping. */
  readonly #pollAbort = new AbortController();
  /** Ends backoff sleeps at once when stopping. */
  readonly #sleepAbort = new AbortController();
  #hardStopped = false;
  #loop?: Promise<void>;
  #stopping?: Promise<void>;
  #inFlight = 0;
  #roomWaiter?: () => void;
  #idleWaiter?: () => void;
  /** Polling pauses until then after the store failed; a probe that finds it writable ends the pause early. */
  #pauseUntilMs = 0;
  /** Ends the pause sleep in progress. */
  #wakeFromPause?: () => void;
  #watchingStore = false;
  #lastPollOkAtMs?: number;
  #lastErrorClass?: LoopErrorClass;
  #lastErrorAtMs?: number;
  #consecutiveFailures = 0;
  #queueMissing = false;
  /** Messages the last poll returned: a non-zero count means a backlog, where polls answer at once. */
  #lastPollCount = 0;
  /** Receives in progress. */
  #receiving = 0;
  /** Credits held by receives in progress (asked for, not yet returned): part of maxInFlight. */
  #reserved = 0;

  constructor(options: SmqConsumerOptions) {
    const { consumer, smq } = options;
    super(options.logger.child({ queueName: consumer.queueName, messageType: consumer.messageType }));
    this.#config = consumer;
    this.#smq = smq;
    this.#client = options.client;
    this.#sink = options.sink;
    this.#storeProbe = options.storeProbe;
    this.#completions = options.completions;
    this.#deadLetters = options.deadLetters;
    this.#maxInFlight = Math.max(1, consumer.maxInFlight);
    this.#batchSize = Math.min(16, Math.max(1, consumer.batchSize));
    this.#waitSeconds = Math.min(30, Math.max(0, consumer.waitSeconds));
    const backoff = { baseMs: smq.backoffBaseMs, maxMs: smq.backoffMaxMs, random: options.random };
    this.#pollBackoff = new Backoff(backoff);
    this.#storeBackoff = new Backoff(backoff);
    this.#leases = new LeaseKeeper({
      client: this.#client,
      visibilityTimeoutSeconds: smq.visibilityTimeoutSeconds,
      leaseLeadMs: smq.leaseLeadMs,
      maxLeaseMs: smq.maxLeaseMs,
      logger: this.logger,
    });
    this.#leases.on('extended', ({ messageId }) => this.emitSafely('lease_extended', { messageId }));
    this.#leases.on('expired', e => this.emitSafely('lease_expired', e));
    this.#deleter = new DeleteBatcher({
      client: this.#client,
      flushMs: smq.deleteFlushMs,
      logger: this.logger,
      random: options.random,
    });
    this.#deleter.on('deleted', e => this.emitSafely('deleted', e));
    this.#deleter.on('delete_failed', e => this.emitSafely('delete_failed', e));
  }

  /** Messages received and not yet deleted or given back. */
  get inFlight(): number {
    return this.#inFlight;
  }

  health(): ConsumerHealth {
    return {
      queueName: this.#config.queueName,
      messageType: this.#config.messageType,
      running: this.#loop !== undefined && this.#stopping === undefined,
      lastPollOkAtMs: this.#lastPollOkAtMs,
      lastErrorClass: this.#lastErrorClass,
      lastErrorAtMs: this.#lastErrorAtMs,
      consecutiveFailures: this.#consecutiveFailures,
      queueMissing: this.#queueMissing,
      inFlight: this.#inFlight,
    };
  }

  start(): void {
    if (this.#loop || this.#stopping) return;
    this.logger.info('consumer started', {
      event: 'consumer_started',
      maxInFlight: this.#maxInFlight,
      batchSize: this.#batchSize,
      waitSeconds: this.#waitSeconds,
    });
    this.#loop = this.#run();
  }

  /**
   * Stops polling at once (the long poll is cut short), waits up to `drainTimeoutMs` for in-flight
   * messages to finish, flushes deletes, then resolves. Whatever did not finish stays in SMQ and
   * redelivers. Calling it again returns the same promise.
   */
  stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options.drainTimeoutMs ?? 30_000);
    return this.#stopping;
  }

  async #run(): Promise<void> {
    const polls = new Set<Promise<void>>();
    while (!this.#stopping) {
      const limit = this.#shortOfWork() ? BACKLOG_POLLS : 1;
      if (polls.size >= limit) {
        await Promise.race(polls);
        continue;
      }
      const pauseMs = this.#pauseUntilMs - Date.now();
      if (pauseMs > 0) {
        if (polls.size > 0) await Promise.race(polls);
        else await this.#pause(pauseMs);
        continue;
      }
      await this.#waitForRoom();
      if (this.#stopping) break;
      const max = Math.min(this.#batchSize, this.#room());
      this.#reserved += max;
      const poll = this.#pollOnce(max).finally(() => {
        this.#reserved -= max;
        polls.delete(poll);
        this.#wakeRoomWaiter();
      });
      polls.add(poll);
      // Without a backlog, one poll at a time: the next is decided by what this one returns.
      if (limit === 1) await poll;
    }
    await Promise.all(polls);
  }

  /** One receive; never throws (failures are classified and backed off here). */
  async #pollOnce(max: number): Promise<void> {
    try {
      let messages: SmqMessage[];
      this.#receiving += 1;
      try {
        messages = await this.#client.receive(max, this.#waitSeconds, this.#pollAbort.signal);
      } finally {
        this.#receiving -= 1;
      }
      // A reply that raced the stop is processed like any other, so nothing received is left unleased.
      if (messages.length > 0) this.#accept(messages);
      this.#lastPollCount = messages.length;
      if (this.#stopping) return;
      this.#pollSucceeded(messages.length);
      if (messages.length === 0 && this.#waitSeconds === 0) {
        await sleep(EMPTY_POLL_PAUSE_MS, this.#sleepAbort.signal);
      } else if (messages.length > 0 && messages.length < max && this.#smq.receiveLingerMs > 0) {
        // A partial batch: messages trickle in. Let a few more arrive instead of paying a request (and a
        // round of Redis calls) for every one or two of them.
        await sleep(this.#smq.receiveLingerMs, this.#sleepAbort.signal);
      }
    } catch (err) {
      if (this.#stopping) return;
      await this.#onPollError(err);
    }
  }

  #pollSucceeded(count: number): void {
    const atMs = Date.now();
    this.#lastPollOkAtMs = atMs;
    this.#consecutiveFailures = 0;
    this.#pollBackoff.reset();
    if (this.#queueMissing) {
      this.#queueMissing = false;
      this.logger.info('queue is reachable again', { event: 'queue_found' });
    }
    this.emitSafely('poll_completed', { atMs, count });
  }

  async #onPollError(err: unknown): Promise<void> {
    const errorClass = classifyLoopError(err);
    if (errorClass === 'empty') return;
    this.#lastErrorClass = errorClass;
    this.#lastErrorAtMs = Date.now();
    this.#consecutiveFailures += 1;
    const delayMs =
      errorClass === 'queue_missing' ? this.#smq.queueMissingBackoffMs : this.#pollBackoff.next();
    this.#logPollFailure(err, errorClass, delayMs);
    this.emitSafely('backoff', { errorClass, delayMs });
    await sleep(delayMs, this.#sleepAbort.signal);
  }

  #logPollFailure(err: unknown, errorClass: LoopErrorClass, delayMs: number): void {
    const message = errorMessage(err);
    if (errorClass === 'queue_missing') {
      // Once per episode: the same cause would otherwise be logged on every poll for as long as it lasts.
      if (this.#queueMissing) return;
      this.#queueMissing = true;
      this.logger.error(
        'queue does not exist: check the queue name (copy it from the CAMS console), the endpoint region and the account id',
        { event: 'queue_missing', endpoint: this.#config.endpoint || this.#smq.endpoint, delayMs },
      );
      return;
    }
    const code = err instanceof SmqError ? err.smqCode : undefined;
    const meta = { event: 'poll_failed', errorClass, code, delayMs, error: message };
    if (errorClass === 'unexpected') {
      this.logger.error('poll failed unexpectedly', {
        ...meta,
        stack: err instanceof Error ? err.stack : '',
      });
      this.emitSafely('error', err instanceof Error ? err : new Error(message));
    } else if (errorClass === 'auth') {
      const hint =
        err instanceof TokenError
          ? 'check the AccessKey'
          : 'token refreshed; check the MessageType and queue name';
      this.logger.warn(`poll failed: credentials rejected (${hint})`, meta);
    } else {
      this.logger.warn('poll failed', meta);
    }
  }

  /**
   * The queue has a backlog (the last poll came back full) but fewer than half the credits are in use:
   * receives, not processing, are what holds the loop back (a distant endpoint), so more go out at once.
   */
  #shortOfWork(): boolean {
    return (
      this.#lastPollCount >= this.#batchSize &&
      this.#consecutiveFailures === 0 &&
      (this.#inFlight + this.#reserved) * 2 < this.#maxInFlight
    );
  }

  /** Credits free for the next receive. */
  #room(): number {
    return this.#maxInFlight - this.#inFlight - this.#reserved;
  }

  #waitForRoom(): Promise<void> | undefined {
    if (this.#room() > 0 || this.#stopping) return undefined;
    return new Promise(resolve => {
      this.#roomWaiter = resolve;
    });
  }

  #wakeRoomWaiter(): void {
    const room = this.#roomWaiter;
    this.#roomWaiter = undefined;
    room?.();
  }

  #accept(messages: SmqMessage[]): void {
    this.#inFlight += messages.length;
    this.emitSafely('received', { count: messages.length });
    const { messageType, queueName } = this.#config;
    const deliveries = messages.map(m => toDelivery(m, this.#leases.track(m), messageType, queueName));
    void this.#processBatch(deliveries);
  }

  /** Frees one message's credit; exactly once per received message. */
  #finish(): void {
    this.#inFlight -= 1;
    this.#wakeRoomWaiter();
    if (this.#inFlight === 0) this.#idleWaiter?.();
  }

  async #processBatch(deliveries: Delivery[]): Promise<void> {
    const settled = new Set<Delivery>();
    const finish = (d: Delivery): void => {
      if (settled.has(d)) return;
      settled.add(d);
      this.#finish();
    };
    try {
      let parkError: unknown;
      const parked = await Promise.all(
        deliveries.map(d => this.#parkRejects(d).catch((err: unknown) => ((parkError = err), false))),
      );
      const unparked = deliveries.filter((_, i) => !parked[i]);
      if (unparked.length > 0) await this.#storeFailed(unparked, parkError, finish);
      const stored = deliveries.filter((_, i) => parked[i]);
      for (const d of stored.filter(d => d.envelopes.length === 0)) await this.#complete(d, finish);
      const toSubmit = stored.filter(d => d.envelopes.length > 0);
      if (toSubmit.length === 0) return;
      const results = await this.#submit(toSubmit, finish);
      if (!results) return;
      let offset = 0;
      await Promise.all(
        toSubmit.map(d => {
          const mine = results.slice(offset, (offset += d.envelopes.length));
          return this.#awaitJobs(d, mine, finish);
        }),
      );
    } catch (err) {
      // A bug, not an outage: log it, and let the unsettled messages redeliver.
      const error = asError(err);
      this.logger.error('message processing failed unexpectedly', {
        event: 'processing_failed',
        error: error.message,
        stack: error.stack,
      });
      this.emitSafely('error', error);
      for (const d of deliveries)
        if (!settled.has(d)) void this.#leases.release(d.lease).finally(() => finish(d));
    }
  }

  /** Parks what is not a receipt; rejects when the store failed. */
  async #parkRejects(d: Delivery): Promise<true> {
    for (const entry of d.rejects) {
      await this.#deadLetters.park(entry);
      this.logger.warn('message body is not a valid receipt; dead-lettered', {
        event: 'receipt_dead_lettered',
        reason: entry.reason,
        messageId: d.message.messageId,
        error: entry.error,
      });
      this.emitSafely('dead_lettered', { reason: entry.reason === 'decode' ? 'decode' : 'invalid' });
    }
    return true;
  }

  async #submit(deliveries: Delivery[], finish: (d: Delivery) => void): Promise<SubmitResult[] | undefined> {
    let results: SubmitResult[];
    try {
      results = await this.#sink.submit(deliveries.flatMap(d => d.envelopes));
    } catch (err) {
      await this.#storeFailed(deliveries, err, finish);
      return undefined;
    }
    this.#storeBackoff.reset();
    const duplicates = results.filter(r => r.finished).length;
    if (results.length > duplicates) this.emitSafely('enqueued', { count: results.length - duplicates });
    if (duplicates > 0) this.emitSafely('duplicate', { count: duplicates });
    return results;
  }

  /**
   * Redis did not take the receipts: nothing is deleted, and polling pauses until the store takes writes
   * again (probed every STORE_PROBE_MS) or the backoff passes. Failures during a pause are one episode and do
   * not step the backoff further. The messages are made visible again within a few seconds, so they are
   * retried soon after Redis returns.
   */
  async #storeFailed(deliveries: Delivery[], err: unknown, finish: (d: Delivery) => void): Promise<void> {
    const now = Date.now();
    if (this.#pauseUntilMs <= now) this.#pauseUntilMs = now + this.#storeBackoff.next();
    const delayMs = this.#pauseUntilMs - now;
    this.#watchStore();
    this.#lastErrorClass = 'store';
    this.#lastErrorAtMs = now;
    this.logger.warn('receipts not stored; messages will redeliver', {
      event: 'store_failed',
      count: deliveries.length,
      delayMs,
      error: errorMessage(err),
    });
    this.emitSafely('backoff', { errorClass: 'store', delayMs });
    const visibleInSeconds = Math.min(Math.max(delayMs, 1000), STORE_HANDBACK_MAX_MS) / 1000;
    await Promise.all(
      deliveries.map(d =>
        this.#leases.releaseForRedelivery(d.lease, visibleInSeconds).finally(() => finish(d)),
      ),
    );
  }

  /** Sleeps out a store pause, or less when the probe finds the store writable or the loop stops. */
  async #pause(ms: number): Promise<void> {
    const wake = new AbortController();
    this.#wakeFromPause = () => wake.abort();
    await sleep(ms, AbortSignal.any([wake.signal, this.#sleepAbort.signal]));
    this.#wakeFromPause = undefined;
  }

  /** While polling is paused for the store, probes it; once it takes writes, the pause ends and the backoff resets. */
  #watchStore(): void {
    if (this.#watchingStore) return;
    this.#watchingStore = true;
    void (async () => {
      while (!this.#stopping && Date.now() < this.#pauseUntilMs) {
        await sleep(STORE_PROBE_MS, this.#sleepAbort.signal);
        if (this.#stopping || !(await this.#storeProbe.probe())) continue;
        this.#storeBackoff.reset();
        this.#pauseUntilMs = 0;
        this.#wakeFromPause?.();
        this.logger.info('the store takes writes again; polling resumes', { event: 'store_recovered' });
      }
    })().finally(() => (this.#watchingStore = false));
  }

  /** Waits for every job the message carried, then deletes it. */
  async #awaitJobs(
    d: Delivery,
    results: readonly SubmitResult[],
    finish: (d: Delivery) => void,
  ): Promise<void> {
    // The lease ends the waits when it is lost, or when the drain deadline passes (#shutdown interrupts
    // every lease). A wait left behind ends when its job finishes, or when the sweep finds the job gone.
    const { messageType } = this.#config;
    try {
      const waits = results.filter(r => !r.finished).map(r => this.#completions.wait(messageType, r.jobId));
      await Promise.race([Promise.all(waits), d.lease.interrupted]);
    } catch (err) {
      await this.#giveUp(d, err);
      finish(d);
      return;
    }
    await this.#complete(d, finish);
  }

  /** The wait ended without an outcome: the lease was lost, we are stopping, or the job vanished. */
  async #giveUp(d: Delivery, err: unknown): Promise<void> {
    if (this.#hardStopped) {
      await this.#leases.release(d.lease);
      return;
    }
    if (d.lease.interruptedBy) return; // the keeper already logged it; the message redelivers
    this.logger.warn('job did not finish; the message will redeliver', {
      event: 'job_lost',
      messageId: d.message.messageId,
      error: errorMessage(err),
    });
    await this.#leases.releaseForRedelivery(d.lease, 1);
  }

  async #complete(d: Delivery, finish: (d: Delivery) => void): Promise<void> {
    try {
      const handle = await this.#leases.release(d.lease);
      if (handle) this.#deleter.add(handle);
    } finally {
      finish(d);
    }
  }

  async #shutdown(drainTimeoutMs: number): Promise<void> {
    this.#sleepAbort.abort();
    this.#wakeRoomWaiter();
    await this.#endPoll();
    const inFlightAtStop = this.#inFlight;
    if (!(await this.#drained(drainTimeoutMs))) {
      this.logger.warn('drain deadline passed; unfinished messages stay in SMQ and redeliver', {
        event: 'drain_timeout',
        inFlight: this.#inFlight,
        drainTimeoutMs,
      });
      this.#hardStopped = true;
      this.#leases.interruptAll();
      await this.#drained(HARD_STOP_GRACE_MS);
    }
    await this.#deleter.flush();
    this.#leases.stop();
    this.logger.info('consumer stopped', {
      event: 'consumer_stopped',
      inFlightAtStop,
      leftInFlight: this.#inFlight,
    });
    this.emitSafely('stopped');
  }

  /**
   * Cutting a long poll short cannot take back messages the server already sent: they would stay invisible
   * until their visibility timeout. With a backlog the poll in progress answers at once, so it gets a moment
   * to finish; an idle long poll is cut at once.
   */
  async #endPoll(): Promise<void> {
    if (this.#receiving > 0 && this.#lastPollCount > 0) {
      const grace = new AbortController();
      await Promise.race([this.#loop, sleep(STOP_POLL_GRACE_MS, grace.signal)]);
      grace.abort();
    }
    this.#pollAbort.abort();
    await this.#loop;
  }

  /** True when nothing is in flight, false when `timeoutMs` passed first. */
  async #drained(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return true;
    const deadline = new AbortController();
    const idle = new Promise<boolean>(resolve => {
      this.#idleWaiter = () => resolve(true);
    });
    const result = await Promise.race([idle, sleep(timeoutMs, deadline.signal).then(() => false)]);
    deadline.abort();
    this.#idleWaiter = undefined;
    return result;
  }
}
