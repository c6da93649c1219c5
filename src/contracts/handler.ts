import type { AnyReceipt, MessageType, ReceiptByType, ReceiptSource } from '../receipts/types.js';
import type { Logger } from './logger.js';
import type { StatusTransition } from './status.js';

/** What a handler knows about the receipt it is given. */
export interface HandlerContext<T extends MessageType = MessageType> {
  readonly messageType: T;
  readonly source: ReceiptSource;
  /** The SMQ queue the receipt came from; undefined for HTTP push. */
  readonly queueName: string | undefined;
  /** The key this handler deduplicates on (its own `dedupeKey`, or the type's default). */
  readonly dedupeKey: string;
  /**
   * 1 on the first attempt, then one more after each failed attempt (what `pipeline.attempts` limits). A
   * crash does not count as an attempt: read `redelivered` to know whether this may be a rerun.
   */
  readonly attempt: number;
  /**
   * True when this handler may already have run for this receipt: its job was started before (a retry after a
   * failure, a worker that died or lost its lock mid-run, a wait behind another worker's lease), the SMQ message
   * had been received before (DequeueCount > 1), or it is a dead-letter replay. False means no earlier run is
   * known, unless Redis lost its data.
   */
  readonly redelivered: boolean;
  /** For ChatAppInbound: `Message` parsed as JSON when it holds a JSON object, otherwise undefined. */
  readonly parsedMessage: unknown;
  /**
   * For ChatAppStatus, when the handler sets `trackStatus`: what this status does to its message's delivery
   * state (previous state, whether it advances, the history). Skip stale updates with
   * `if (!ctx.status?.advances) return;`. Undefined otherwise.
   */
  readonly status: StatusTransition | undefined;
  readonly logger: Logger;
  /** Aborted when the daemon shuts down or the attempt times out. */
  readonly signal: AbortSignal;
}

/** A handler module's default export. */
export interface Handler<T extends MessageType = MessageType> {
  /** Unique among the registered handlers; it namespaces the idempotency records. */
  readonly name: string;
  readonly messageTypes: readonly T[];
  handle(receipt: ReceiptByType[T], ctx: HandlerContext<T>): Promise<void> | void;
  /**
   * Overrides the type's default dedupe key for this handler's idempotency. A handler of several types
   * must return keys that stay distinct across them (include `messageType` when unsure).
   */
  dedupeKey?(receipt: ReceiptByType[T], messageType: T): string;
  /**
   * Opt-in per-key serialisation: receipts with the same key (e.g. `receipt.MessageId`) never run in this
   * handler at the same time, across every slot, process and host. The others wait without spending an
   * attempt, and run lowest rank first where their type has a rank (a message's statuses: Sent, Delivered,
   * Read, Failed).
   */
  serializeBy?(receipt: ReceiptByType[T], messageType: T): string;
  /**
   * Takes receipts in bulk instead of `handle` (which is then never called): receipts that start close
   * together, in this process, are handed over together, up to `batch.maxSize` within `batch.lingerMs`. Each
   * receipt keeps its own idempotency: return `{ failed: [indices] }` (or `{ index, error }` entries) for the
   * ones that failed, and only those are retried; throwing fails them all.
   */
  handleBatch?(
    receipts: ReceiptByType[T][],
    ctxs: HandlerContext<T>[],
  ): Promise<BatchResult | void> | BatchResult | void;
  /** Batch limits for `handleBatch`: defaults 100 receipts, 10 ms. */
  readonly batch?: { readonly maxSize?: number; readonly lingerMs?: number };
  /** Fills `ctx.status` for ChatAppStatus receipts: the message's delivery state machine, kept in Redis. */
  readonly trackStatus?: boolean;
  /** Called once at startup with the `options` from the config entry. */
  init?(options: Readonly<Record<string, unknown>>): Promise<void> | void;
  /** Called once at shutdown, after the last receipt. */
  close?(): Promise<void> | void;
}

/** What `handleBatch` may return: which receipts (by index) failed, optionally with their errors. */
export interface BatchResult {
  readonly failed?: readonly (number | { readonly index: number; readonly error?: unknown })[];
}

/** Typed identity helper for handler modules: `export default defineHandler({...})`. */
export function defineHandler<T extends MessageType>(handler: Handler<T>): Handler<T> {
  return handler;
}

/** The part of the handler registry the pipeline needs to run one attempt. */
export interface HandlerLookup {
  handlersFor(type: MessageType): readonly Handler[];
  dedupeKeyFor(handler: Handler, type: MessageType, receipt: AnyReceipt): string;
}

/** Where an attempt gets its handler set, and gives it back when it ended (a reloaded set is closed after). */
export interface HandlerSource {
  acquire(): HandlerLookup;
  release(set: HandlerLookup): void;
}
