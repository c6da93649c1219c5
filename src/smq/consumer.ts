import type { ConsumerConfig, SmqConfig } from '../config/types.js';
import type { CompletionSource, DeadLetterSink, ReceiptSink, StoreProbe } from '../contracts/pipeline.js';
import type { ConsumerEvents, ConsumerHealth } from '../contracts/telemetry.js';
import type { Logger } from '../observability/logger.js';
import { sleep } from '../util/async.js';
import { errorMessage } from '../util/error-message.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { boundSideCalls } from './bounded-client.js';
import { Credits } from './credits.js';
import { DeleteBatcher } from './delete-batcher.js';
import { toDelivery } from './delivery.js';
import { LeaseKeeper } from './lease-keeper.js';
import { PollLoop } from './poll-loop.js';
import { PollHealth } from './poll-health.js';
import { SafeEmitter } from './safe-emitter.js';
import { DeliverySettler, type StoreOutcomes } from './settler.js';
import { StorePause } from './store-pause.js';
import type { SmqMessage, SmqQueueClient } from './types.js';

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

/** How long a poll in progress may finish on its own at stop when the queue has a backlog. */
const STOP_POLL_GRACE_MS = 1_000;
/** After the drain deadline, how long chains get to let go of their messages. */
const HARD_STOP_GRACE_MS = 2_000;

/**
 * One long-polling loop for one (queueName, messageType) pair, put together from its roles: the PollLoop
 * receives only as many messages as the Credits leave room for, the LeaseKeeper keeps their leases, the
 * DeliverySettler deletes each message once every job it carried has finished, PollHealth and StorePause
 * keep the books on failures. It never throws and never stops on its own: failures are classified,
 * counted and backed off. This class wires them up, and stops them in order.
 */
export class SmqConsumer extends SafeEmitter<ConsumerEvents> {
  readonly #config: ConsumerConfig;
  readonly #client: SmqQueueClient;
  readonly #credits: Credits;
  readonly #health: PollHealth;
  readonly #leases: LeaseKeeper;
  readonly #deleter: DeleteBatcher;
  readonly #settler: DeliverySettler;
  readonly #polls: PollLoop;
  readonly #storePause: StorePause;
  /** Ends backoff sleeps at once when stopping. */
  readonly #sleepAbort = new AbortController();
  #hardStopped = false;
  #loop?: Promise<void>;
  #stopping?: Promise<void>;

  constructor(options: SmqConsumerOptions) {
    const { consumer, smq } = options;
    super(options.logger.child({ queueName: consumer.queueName, messageType: consumer.messageType }));
    checkSettings(consumer);
    this.#config = consumer;
    this.#client = boundSideCalls(options.client);
    this.#credits = new Credits(consumer.maxInFlight);
    this.#health = new PollHealth(this.logger, consumer.endpoint || smq.endpoint);
    const backoff = { baseMs: smq.backoffBaseMs, maxMs: smq.backoffMaxMs, random: options.random };
    this.#storePause = new StorePause({
      probe: options.storeProbe,
      backoff: new Backoff(backoff),
      logger: this.logger,
      stopped: this.#sleepAbort.signal,
    });
    this.#leases = this.#createLeaseKeeper(smq);
    this.#deleter = this.#createDeleter(smq, options.random);
    this.#polls = this.#createPollLoop(options, backoff);
    this.#settler = new DeliverySettler({
      sink: options.sink,
      deadLetters: options.deadLetters,
      completions: options.completions,
      messageType: consumer.messageType,
      leases: this.#leases,
      deleter: this.#deleter,
      store: this.#storeOutcomes(),
      logger: this.logger,
      emit: (event, ...args) => this.emitSafely(event, ...args),
      onSettled: () => this.#credits.release(),
      hardStopped: () => this.#hardStopped,
    });
  }

  /** Messages received and not yet deleted or given back. */
  get inFlight(): number {
    return this.#credits.inFlight;
  }

  health(): ConsumerHealth {
    const { queueName, messageType } = this.#config;
    const running = this.#loop !== undefined && this.#stopping === undefined;
    return this.#health.snapshot({ queueName, messageType }, running, this.#credits.inFlight);
  }

  start(): void {
    if (this.#loop || this.#stopping) return;
    this.logger.info('consumer started', {
      event: 'consumer_started',
      maxInFlight: this.#credits.max,
      batchSize: this.#config.batchSize,
      waitSeconds: this.#config.waitSeconds,
    });
    this.#loop = this.#polls.run();
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

  #createPollLoop(options: SmqConsumerOptions, backoff: BackoffOptions): PollLoop {
    const { consumer, smq } = options;
    return new PollLoop({
      batchSize: consumer.batchSize,
      waitSeconds: consumer.waitSeconds,
      receiveLingerMs: smq.receiveLingerMs,
      queueMissingBackoffMs: smq.queueMissingBackoffMs,
      client: options.client,
      credits: this.#credits,
      health: this.#health,
      storePause: this.#storePause,
      backoff,
      stopped: this.#sleepAbort.signal,
      accept: messages => this.#accept(messages),
      emit: (event, ...args) => this.emitSafely(event, ...args),
    });
  }

  #createLeaseKeeper(smq: SmqConfig): LeaseKeeper {
    const leases = new LeaseKeeper({
      client: this.#client,
      visibilityTimeoutSeconds: smq.visibilityTimeoutSeconds,
      leaseLeadMs: smq.leaseLeadMs,
      maxLeaseMs: smq.maxLeaseMs,
      logger: this.logger,
    });
    leases.on('extended', ({ messageId }) => this.emitSafely('lease_extended', { messageId }));
    leases.on('expired', e => this.emitSafely('lease_expired', e));
    return leases;
  }

  #createDeleter(smq: SmqConfig, random: (() => number) | undefined): DeleteBatcher {
    const deleter = new DeleteBatcher({
      client: this.#client,
      flushMs: smq.deleteFlushMs,
      logger: this.logger,
      random,
    });
    deleter.on('deleted', e => this.emitSafely('deleted', e));
    deleter.on('delete_failed', e => this.emitSafely('delete_failed', e));
    return deleter;
  }

  /** Redis refused receipts: polling pauses (StorePause), readiness shows it, and the loop says so. */
  #storeOutcomes(): StoreOutcomes {
    return {
      failed: (count, err) => {
        const now = Date.now();
        const delayMs = this.#storePause.failed(now);
        this.#health.storeFailed(now);
        this.logger.warn('receipts not stored; messages will redeliver', {
          event: 'store_failed',
          count,
          delayMs,
          error: errorMessage(err),
        });
        this.emitSafely('backoff', { errorClass: 'store', delayMs });
        return delayMs;
      },
      stored: () => this.#storePause.stored(),
    };
  }

  #accept(messages: SmqMessage[]): void {
    this.#credits.hold(messages.length);
    this.emitSafely('received', { count: messages.length });
    const { messageType, queueName } = this.#config;
    const deliveries = messages.map(m => toDelivery(m, this.#leases.track(m), messageType, queueName));
    void this.#settler.settle(deliveries);
  }

  async #shutdown(drainTimeoutMs: number): Promise<void> {
    this.#sleepAbort.abort();
    this.#credits.wake();
    await this.#endPoll();
    const inFlightAtStop = this.#credits.inFlight;
    if (!(await this.#drained(drainTimeoutMs))) {
      this.logger.warn('drain deadline passed; unfinished messages stay in SMQ and redeliver', {
        event: 'drain_timeout',
        inFlight: this.#credits.inFlight,
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
      leftInFlight: this.#credits.inFlight,
    });
    this.emitSafely('stopped');
  }

  /**
   * Cutting a long poll short cannot take back messages the server already sent: they would stay invisible
   * until their visibility timeout. With a backlog the poll in progress answers at once, so it gets a moment
   * to finish; an idle long poll is cut at once.
   */
  async #endPoll(): Promise<void> {
    if (this.#polls.receivingBacklog) {
      const grace = new AbortController();
      await Promise.race([this.#loop, sleep(STOP_POLL_GRACE_MS, grace.signal)]);
      grace.abort();
    }
    this.#polls.cut();
    await this.#loop;
  }

  /** True when nothing is in flight, false when `timeoutMs` passed first. */
  async #drained(timeoutMs: number): Promise<boolean> {
    if (this.#credits.inFlight === 0) return true;
    const deadline = new AbortController();
    const idle = this.#credits.onIdle().then(() => true);
    const result = await Promise.race([idle, sleep(timeoutMs, deadline.signal).then(() => false)]);
    deadline.abort();
    return result;
  }
}

/** The loop's own settings guard, as Backoff and LeaseKeeper guard theirs: a bad value throws, never clamps. */
function checkSettings(c: ConsumerConfig): void {
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > 16) {
    throw new RangeError(`Expected batchSize to be an integer from 1 to 16, got ${c.batchSize}`);
  }
  if (!Number.isInteger(c.waitSeconds) || c.waitSeconds < 0 || c.waitSeconds > 30) {
    throw new RangeError(`Expected waitSeconds to be an integer from 0 to 30, got ${c.waitSeconds}`);
  }
}
