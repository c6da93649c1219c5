import type { HeapItem } from './structures.js';

/** Queue attributes in the units SMQ uses on the wire (seconds, bytes). */
export interface QueueAttributes {
  delaySeconds: number;
  maximumMessageSize: number;
  messageRetentionPeriod: number;
  visibilityTimeout: number;
  pollingWaitSeconds: number;
  loggingEnabled: boolean;
}

export const DEFAULT_QUEUE_ATTRIBUTES: Readonly<QueueAttributes> = {
  delaySeconds: 0,
  maximumMessageSize: 65536,
  messageRetentionPeriod: 345600,
  visibilityTimeout: 30,
  pollingWaitSeconds: 0,
  loggingEnabled: false,
};

export enum MessageState {
  Delayed = 0,
  Visible = 1,
  InFlight = 2,
  Gone = 3,
}

export interface StoredMessage extends HeapItem {
  readonly key: number;
  readonly id: string;
  readonly bodyMd5: string;
  /**
   * The fields that never change, rendered once at send time:
   * `<MessageBodyMD5>…</MessageBodyMD5><MessageBody>…</MessageBody><EnqueueTime>…</EnqueueTime>`.
   * Receive and peek replies write this flat string straight into their buffer instead of escaping
   * the body and building a long string each time. Kept as a string, not a Buffer: one-byte V8
   * strings cost a byte per character, while small Buffers waste pool space and carry a view object.
   */
  readonly fixedXml: string;
  /** UTF-8 length of fixedXml, so a reply's size is known before it is written. */
  readonly fixedBytes: number;
  readonly priority: number;
  readonly enqueueTimeMs: number;
  firstDequeueTimeMs: number;
  dequeueCount: number;
  state: MessageState;
  /** When a delayed or in-flight message becomes visible (its NextVisibleTime). */
  visibleAtMs: number;
  /** Position in the pending heap; -1 while visible or gone. */
  heapIndex: number;
  /** The only receipt handle that is currently valid; '' when none is. */
  handle: string;
}

export interface QueueStats {
  sent: number;
  received: number;
  deleted: number;
  expired: number;
  inFlight: number;
  visible: number;
  delayed: number;
}
