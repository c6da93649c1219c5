import type { IdFactory } from './ids.js';
import { MessageState, type QueueAttributes, type QueueStats, type StoredMessage } from './queue-types.js';
import { LongPolls, type Deliver } from './long-polls.js';
import { Deque, TimeHeap } from './structures.js';
import { escapeXml } from './xml.js';

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
  private readonly polls = new LongPolls({
    visible: () => this.stats.visible,
    nextDueMs: () => this.pending.peekTime(),
    take: (max, now) => this.take(max, now),
    refresh: now => this.refresh(now),
  });
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
      this.polls.arm(now);
    } else {
      this.ready[priority]?.push(message);
      this.stats.visible += 1;
      this.polls.serve(now);
    }
    return message;
  }

  /** Takes up to `max` visible messages, highest priority (lowest number) first. */
  receive(max: number, now = Date.now()): StoredMessage[] {
    if (this.promoteDue(now) > 0) this.polls.serve(now);
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
    return this.polls.wait(max, waitMs, deliver, now);
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
    this.polls.arm(now);
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
    if (this.promoteDue(now) > 0) this.polls.serve(now);
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
    this.polls.answerAll(null);
  }

  /** Answers every waiting long poll as empty (used on shutdown). */
  releaseWaiters(): void {
    this.polls.answerAll([]);
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
}
