import { createHash } from 'node:crypto';
import { FaultInjector, type FaultSettings } from './faults.js';
import { IdFactory } from './ids.js';
import { EmulatedQueue } from './queue.js';
import type { QueueAttributes, QueueStats, StoredMessage } from './queue-types.js';
import { ReceiptFactory, encodeReceipt, type Receipt } from './receipts.js';
import { RoleSessions, type StsStats } from './sts-sessions.js';
import { TokenIssuer } from './tokens.js';

/** A MessageType=QueueName pair, as CAMS shows it in the console. */
export interface QueueDeclaration {
  readonly messageType: string;
  readonly queueName: string;
}

/** What to enqueue through the control API or `inject()`. */
export interface InjectRequest {
  /** Target queue; or give `messageType` to use the queue declared for it; or neither, to spread generated receipts over all declared queues. */
  readonly queueName?: string;
  readonly messageType?: string;
  /** MessageBody values enqueued verbatim (already Base64, or anything you want to test with). */
  readonly bodies?: readonly string[];
  /** Receipt objects, enqueued as Base64 of their JSON. */
  readonly receipts?: readonly Receipt[];
  /** Number of generated receipts of the queue's MessageType. */
  readonly count?: number;
  /** Share (0..1) of the receipts above enqueued twice, as two SMQ messages. Default 0. */
  readonly duplicateRatio?: number;
  readonly priority?: number;
  readonly delaySeconds?: number;
}

export interface InjectResult {
  enqueued: number;
  duplicates: number;
  /** Messages enqueued per queue name. */
  queues: Record<string, number>;
}

export interface QueueReport extends QueueStats {
  messageType?: string;
}

export interface EmulatorStats {
  queues: Record<string, QueueReport>;
  generated: number;
  duplicatesGenerated: number;
  tokensIssued: number;
  /** QueryTokenForMnsQueue calls that passed the signature check, per signing AccessKeyId. */
  tokenCallsBySigner: Record<string, number>;
  /** Role sessions from the fake STS and metadata service. */
  sts: StsStats;
  requests: number;
  faults: FaultInjector['counters'];
}

export const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const INJECT_CHUNK = 2000;

export function md5Upper(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex').toUpperCase();
}

/** The emulator's state: queues, declarations, issued tokens, faults and counters. No HTTP here. */
export class Broker {
  readonly ids = new IdFactory();
  readonly queues = new Map<string, EmulatedQueue>();
  readonly declarations: QueueDeclaration[] = [];
  readonly tokens: TokenIssuer;
  readonly sessions = new RoleSessions();
  readonly tokenCallsBySigner = new Map<string, number>();
  readonly faults: FaultInjector;
  readonly receipts = new ReceiptFactory();
  requests = 0;
  generated = 0;
  duplicatesGenerated = 0;

  constructor(
    readonly defaultAttributes: QueueAttributes,
    tokenTtlSeconds: number,
    faults: FaultSettings,
  ) {
    this.tokens = new TokenIssuer(tokenTtlSeconds);
    this.faults = new FaultInjector(faults);
  }

  createQueue(name: string, attributes: QueueAttributes): EmulatedQueue {
    const queue = new EmulatedQueue(name, attributes, this.ids);
    this.queues.set(name, queue);
    return queue;
  }

  deleteQueue(name: string): boolean {
    const queue = this.queues.get(name);
    if (!queue) return false;
    this.queues.delete(name);
    queue.destroy();
    return true;
  }

  /** Declares a MessageType=QueueName pair and creates the queue when it does not exist. */
  declare(messageType: string, queueName: string): void {
    if (!QUEUE_NAME.test(queueName) || queueName.length > 120)
      throw new Error(`invalid queue name "${queueName}"`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(messageType)) throw new Error(`invalid message type "${messageType}"`);
    const known = this.declarations.some(d => d.messageType === messageType && d.queueName === queueName);
    if (!known) this.declarations.push({ messageType, queueName });
    if (!this.queues.has(queueName)) this.createQueue(queueName, this.defaultAttributes);
  }

  queuesForType(messageType: string): string[] {
    return this.declarations.filter(d => d.messageType === messageType).map(d => d.queueName);
  }

  typeOfQueue(queueName: string): string | undefined {
    return this.declarations.find(d => d.queueName === queueName)?.messageType;
  }

  enqueue(queue: EmulatedQueue, body: string, priority = 8, delaySeconds?: number): StoredMessage {
    return queue.send(body, md5Upper(body), priority, delaySeconds);
  }

  /** One generated receipt for a declared queue, possibly enqueued twice. Returns messages enqueued. */
  enqueueGenerated(declaration: QueueDeclaration, duplicateRatio: number): number {
    const queue = this.queues.get(declaration.queueName);
    if (!queue) return 0;
    const body = encodeReceipt(this.receipts.next(declaration.messageType));
    const md5 = md5Upper(body);
    queue.send(body, md5, 8, undefined);
    this.generated += 1;
    if (duplicateRatio > 0 && Math.random() < duplicateRatio) {
      queue.send(body, md5, 8, undefined);
      this.duplicatesGenerated += 1;
      return 2;
    }
    return 1;
  }

  /** Enqueues in chunks, yielding between them, so a 200k preload does not stall other requests. */
  async inject(request: InjectRequest): Promise<InjectResult> {
    if (
      request.bodies !== undefined &&
      !(Array.isArray(request.bodies) && request.bodies.every(b => typeof b === 'string'))
    ) {
      throw new Error('bodies must be an array of strings');
    }
    if (
      request.receipts !== undefined &&
      !(Array.isArray(request.receipts) && request.receipts.every(r => r !== null && typeof r === 'object'))
    ) {
      throw new Error('receipts must be an array of objects');
    }
    const targets = this.injectTargets(request);
    const ratio = request.duplicateRatio ?? 0;
    if (!(ratio >= 0 && ratio <= 1)) throw new Error('duplicateRatio must be a number from 0 to 1');
    const priority = request.priority ?? 8;
    if (!Number.isInteger(priority) || priority < 1 || priority > 16)
      throw new Error('priority must be 1..16');
    const delay = request.delaySeconds;
    if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > 604800)) {
      throw new Error('delaySeconds must be 0..604800');
    }
    const result: InjectResult = { enqueued: 0, duplicates: 0, queues: {} };
    const put = (target: QueueDeclaration, body: string): void => {
      const queue = this.queues.get(target.queueName);
      if (!queue) throw new Error(`queue "${target.queueName}" does not exist`);
      const md5 = md5Upper(body);
      const copies = ratio > 0 && Math.random() < ratio ? 2 : 1;
      for (let c = 0; c < copies; c += 1) queue.send(body, md5, priority, delay);
      result.enqueued += copies;
      result.duplicates += copies - 1;
      result.queues[target.queueName] = (result.queues[target.queueName] ?? 0) + copies;
    };
    const first = targets[0] as QueueDeclaration;
    const explicit: string[] = [...(request.bodies ?? []), ...(request.receipts ?? []).map(encodeReceipt)];
    for (let i = 0; i < explicit.length; i += 1) {
      put(first, explicit[i] as string);
      if (i % INJECT_CHUNK === INJECT_CHUNK - 1) await yieldToLoop();
    }
    const count = request.count ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > 10_000_000)
      throw new Error('count must be a whole number');
    for (let i = 0; i < count; i += 1) {
      const target = targets[i % targets.length] as QueueDeclaration;
      put(target, encodeReceipt(this.receipts.next(target.messageType)));
      if (i % INJECT_CHUNK === INJECT_CHUNK - 1) await yieldToLoop();
    }
    return result;
  }

  private injectTargets(request: InjectRequest): QueueDeclaration[] {
    if (request.queueName !== undefined) {
      if (!this.queues.has(request.queueName)) throw new Error(`queue "${request.queueName}" does not exist`);
      const messageType = request.messageType ?? this.typeOfQueue(request.queueName) ?? 'Unknown';
      return [{ messageType, queueName: request.queueName }];
    }
    if (request.messageType !== undefined) {
      const names = this.queuesForType(request.messageType);
      if (names.length === 0)
        throw new Error(`no queue is declared for message type "${request.messageType}"`);
      return [{ messageType: request.messageType, queueName: names[0] as string }];
    }
    if ((request.bodies?.length ?? 0) > 0 || (request.receipts?.length ?? 0) > 0) {
      throw new Error('bodies and receipts need a queueName or messageType');
    }
    const live = this.declarations.filter(d => this.queues.has(d.queueName));
    if (live.length === 0) throw new Error('no queue is declared');
    return live;
  }

  /** Promotes due messages and applies retention in every queue (a periodic tick). */
  housekeeping(): void {
    const now = Date.now();
    for (const queue of this.queues.values()) queue.refresh(now);
  }

  stats(): EmulatorStats {
    const queues: Record<string, QueueReport> = {};
    for (const [name, queue] of this.queues) {
      const messageType = this.typeOfQueue(name);
      queues[name] = messageType ? { messageType, ...queue.snapshot() } : queue.snapshot();
    }
    return {
      queues,
      generated: this.generated,
      duplicatesGenerated: this.duplicatesGenerated,
      tokensIssued: this.tokens.issuedCount,
      tokenCallsBySigner: Object.fromEntries(this.tokenCallsBySigner),
      sts: this.sessions.stats(),
      requests: this.requests,
      faults: { ...this.faults.counters },
    };
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}
