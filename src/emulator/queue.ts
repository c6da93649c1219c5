import type { IdFactory } from './ids.js';
import { Deque, TimeHeap, type HeapItem } from './structures.js';
import { escapeXml } from './xml.js';

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

/** A long poll waiting for messages; `null` means the queue was deleted meanwhile. */
type Deliver = (messages: StoredMessage[] | null) => void;

interface Waiter {
  readonly max: number;
  readonly deliver: Deliver;
  timer: NodeJS.Timeout | undefined;
}

export type HandleCheck = StoredMessage | 'malformed' | 'missing';

const PRIORITIES = 16;

/**
 * One SMQ queue. Visible messages sit in one FIFO per priority; delayed and in-flight messages sit
 * in an indexed min-heap keyed by the time they become visible, so receive, delete and
 * change-visibility are O(log n) and nothing scans the whole queue. A FIFO entry left behind by a
 * message that expired while visible is skipped when it surfaces. Retention relies on insertion
 * order of `messages`, which is enqueue order.
 */
export class EmulatedQueue {
  readonly createTimeS: number;
  lastModifyTimeS: number;
  readonly attributes: QueueAttributes;
  private readonly messages = new Map<number, StoredMessage>();
  private readonly ready: Deque<StoredMessage>[] = [];
  private readonly pending = new TimeHeap<StoredMessage>();
  private readonly waiters: Waiter[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Infinity;
  private readonly stats: QueueStats = {
    sent: 0,
    received: 0,
    deleted: 0,
    expired: 0,
    inFlight: 0,
    visible: 0,
    delayed: 0,
  };

  constructor(
    readonly name: string,
    attributes: QueueAttributes,
    private readonly ids: IdFactory,
  ) {
    this.attributes = { ...attributes };
    this.createTimeS = Math.floor(Date.now() / 1000);
    this.lastModifyTimeS = this.createTimeS;
    for (let p = 0; p <= PRIORITIES; p += 1) this.ready.push(new Deque<StoredMessage>());
  }

  setAttributes(changes: Partial<QueueAttributes>): void {
    Object.assign(this.attributes, changes);
    this.lastModifyTimeS = Math.floor(Date.now() / 1000);
  }

  send(body: string, bodyMd5: string, priority: number, delaySeconds: number | undefined): StoredMessage {
    const now = Date.now();
    const delay = delaySeconds ?? this.attributes.delaySeconds;
    const key = this.ids.nextMessageKey();
    const fixedXml =
      `<MessageBodyMD5>${bodyMd5}</MessageBodyMD5><MessageBody>${escapeXml(body)}</MessageBody>` +
      `<EnqueueTime>${now}</EnqueueTime>`;
    const message: StoredMessage = {
      key,
      id: this.ids.messageId(),
      bodyMd5,
      fixedXml,
      // Measuring the length also flattens the concatenation, so the stored string is compact.
      fixedBytes: Buffer.byteLength(fixedXml, 'utf8'),
      priority,
      enqueueTimeMs: now,
      firstDequeueTimeMs: 0,
      dequeueCount: 0,
      state: MessageState.Visible,
      visibleAtMs: now,
      heapIndex: -1,
      handle: '',
    };
    this.messages.set(key, message);
    this.stats.sent += 1;
    if (delay > 0) {
      message.state = MessageState.Delayed;
      message.visibleAtMs = now + delay * 1000;
      message.handle = this.ids.receiptHandle(priority, key);
      this.pending.push(message);
      this.stats.delayed += 1;
      this.armWake(now);
    } else {
      this.ready[priority]?.push(message);
      this.stats.visible += 1;
      this.serveWaiters(now);
    }
    return message;
  }

  /** Takes up to `max` visible messages, highest priority (lowest number) first. */
  receive(max: number, now = Date.now()): StoredMessage[] {
    if (this.promoteDue(now) > 0) this.serveWaiters(now);
    return this.take(max, now);
  }

  /** Visible messages without changing their state. */
  peek(max: number): StoredMessage[] {
    const now = Date.now();
    this.refresh(now);
    const cutoff = this.retentionCutoff(now);
    const out: StoredMessage[] = [];
    for (let p = 1; p <= PRIORITIES && out.length < max; p += 1) {
      this.ready[p]?.forEach(m => {
        if (m.state === MessageState.Visible && m.enqueueTimeMs > cutoff) out.push(m);
        return out.length < max;
      });
    }
    return out;
  }

  /**
   * Receives now if anything is visible; otherwise holds the request until a message becomes
   * visible or `waitMs` passes. Returns a function that abandons the wait (client went away).
   */
  waitForMessages(max: number, waitMs: number, deliver: Deliver): () => void {
    const now = Date.now();
    const ready = this.receive(max, now);
    if (ready.length > 0 || waitMs <= 0) {
      deliver(ready);
      return () => undefined;
    }
    const waiter: Waiter = { max, deliver, timer: undefined };
    waiter.timer = setTimeout(() => {
      this.removeWaiter(waiter);
      deliver([]);
    }, waitMs);
    this.waiters.push(waiter);
    this.armWake(now);
    return () => {
      if (this.removeWaiter(waiter)) clearTimeout(waiter.timer);
    };
  }

  /** The message a receipt handle currently names, if that handle is still the valid one. */
  checkHandle(handle: string, now = Date.now()): HandleCheck {
    const key = this.ids.parseHandle(handle);
    if (key === undefined) return 'malformed';
    const message = this.messages.get(key);
    if (
      !message ||
      message.handle !== handle ||
      (message.state !== MessageState.InFlight && message.state !== MessageState.Delayed) ||
      message.visibleAtMs <= now ||
      message.enqueueTimeMs <= this.retentionCutoff(now)
    ) {
      return 'missing';
    }
    return message;
  }

  delete(handle: string): 'ok' | 'malformed' | 'missing' {
    const message = this.checkHandle(handle);
    if (typeof message === 'string') return message;
    this.remove(message);
    this.stats.deleted += 1;
    return 'ok';
  }

  /** Starts a new invisibility period from now and issues a new handle; the old one dies. */
  changeVisibility(handle: string, visibilityTimeoutSeconds: number): HandleCheck {
    const now = Date.now();
    const message = this.checkHandle(handle, now);
    if (typeof message === 'string') return message;
    message.visibleAtMs = now + visibilityTimeoutSeconds * 1000;
    message.handle = this.ids.receiptHandle(message.priority, message.key);
    this.pending.update(message);
    this.armWake(now);
    return message;
  }

  /**
   * Promotes due messages, drops messages past retention and serves waiters. Runs from the
   * once-a-second housekeeping tick and before stats and peeks, not on every receive: scanning the
   * head of `messages` walks the holes V8 leaves after deletes. Receive and handle checks apply the
   * retention cutoff per message instead.
   */
  refresh(now = Date.now()): void {
    this.expireRetained(now);
    if (this.promoteDue(now) > 0) this.serveWaiters(now);
  }

  snapshot(): QueueStats {
    this.refresh();
    return { ...this.stats };
  }

  /** Empties the queue and zeroes its counters; waiting long polls stay. */
  purge(): void {
    for (const m of this.messages.values()) m.state = MessageState.Gone;
    this.messages.clear();
    for (const d of this.ready) d.clear();
    this.pending.clear();
    for (const key of Object.keys(this.stats) as (keyof QueueStats)[]) this.stats[key] = 0;
  }

  /** Called when the queue is deleted: its long polls are answered with QueueNotExist. */
  destroy(): void {
    this.purge();
    this.clearWake();
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.deliver(null);
    }
  }

  /** Answers every waiting long poll as empty (used on shutdown). */
  releaseWaiters(): void {
    this.clearWake();
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.deliver([]);
    }
  }

  private retentionCutoff(now: number): number {
    return now - this.attributes.messageRetentionPeriod * 1000;
  }

  private take(max: number, now: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    const vtMs = this.attributes.visibilityTimeout * 1000;
    const cutoff = this.retentionCutoff(now);
    for (let p = 1; p <= PRIORITIES && out.length < max; p += 1) {
      const fifo = this.ready[p] as Deque<StoredMessage>;
      while (out.length < max) {
        const m = fifo.shift();
        if (!m) break;
        if (m.state !== MessageState.Visible) continue; // removed by retention while visible
        if (m.enqueueTimeMs <= cutoff) {
          this.remove(m);
          this.stats.expired += 1;
          continue;
        }
        m.state = MessageState.InFlight;
        m.dequeueCount += 1;
        if (m.firstDequeueTimeMs === 0) m.firstDequeueTimeMs = now;
        m.visibleAtMs = now + vtMs;
        m.handle = this.ids.receiptHandle(m.priority, m.key);
        this.pending.push(m);
        out.push(m);
      }
    }
    this.stats.visible -= out.length;
    this.stats.inFlight += out.length;
    this.stats.received += out.length;
    return out;
  }

  private promoteDue(now: number): number {
    let promoted = 0;
    const pending = this.pending;
    while (pending.peekTime() <= now) {
      const m = pending.pop() as StoredMessage;
      if (m.state === MessageState.InFlight) this.stats.inFlight -= 1;
      else this.stats.delayed -= 1;
      m.state = MessageState.Visible;
      m.handle = '';
      this.ready[m.priority]?.push(m);
      this.stats.visible += 1;
      promoted += 1;
    }
    return promoted;
  }

  private expireRetained(now: number): void {
    const cutoff = this.retentionCutoff(now);
    for (const m of this.messages.values()) {
      if (m.enqueueTimeMs > cutoff) return;
      this.remove(m);
      this.stats.expired += 1;
    }
  }

  private remove(m: StoredMessage): void {
    this.pending.remove(m);
    if (m.state === MessageState.InFlight) this.stats.inFlight -= 1;
    else if (m.state === MessageState.Delayed) this.stats.delayed -= 1;
    else if (m.state === MessageState.Visible) this.stats.visible -= 1;
    m.state = MessageState.Gone;
    m.handle = '';
    this.messages.delete(m.key);
  }

  private serveWaiters(now: number): void {
    while (this.waiters.length > 0 && this.stats.visible > 0) {
      const waiter = this.waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      const messages = this.take(waiter.max, now);
      waiter.deliver(messages);
    }
    if (this.waiters.length === 0) this.clearWake();
  }

  private removeWaiter(waiter: Waiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    if (this.waiters.length === 0) this.clearWake();
    return true;
  }

  /** One timer per queue, armed only while long polls wait, for the next delay or visibility expiry. */
  private armWake(now: number): void {
    if (this.waiters.length === 0) return;
    const next = this.pending.peekTime();
    if (next === Infinity || next >= this.wakeAtMs) return;
    this.clearWake();
    this.wakeAtMs = next;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAtMs = Infinity;
        const at = Date.now();
        this.refresh(at);
        this.armWake(at);
      },
      Math.max(1, next - now),
    );
  }

  private clearWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAtMs = Infinity;
  }
}
