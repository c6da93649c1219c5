import type { IncomingHttpHeaders } from 'node:http';
import { QUEUE_NAME, md5Upper, type Broker } from './broker.js';
import { MnsFailure, fail } from './mns-errors.js';
import type { MnsRoute } from './mns-routes.js';
import type { EmulatedQueue } from './queue.js';
import type { QueueAttributes, StoredMessage } from './queue-types.js';
import { messagesReply, queueFields, queueListEntry, rootElement, sentFields } from './render.js';
import {
  integerIn,
  parseAttributes,
  parseBody,
  readMessage,
  sameAttributes,
  type SendInput,
} from './mns-parse.js';
import { childText, escapeXml } from './xml.js';

/** One SMQ request after HTTP parsing. Query names are lower-cased: clients disagree on their case. */
export interface MnsCall {
  readonly method: string;
  readonly query: ReadonlyMap<string, string>;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `http://<Host>`, for Location, QueueURL and HostId. */
  readonly hostUrl: string;
  /** Latency already injected; a long poll ends that much sooner so it never answers late. */
  readonly spentMs: number;
  /** Registers a callback for when the client goes away before the answer. */
  onAbort(callback: () => void): void;
}

export interface Reply {
  readonly status: number;
  /** XML text, or bytes already encoded (receive and peek replies). */
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Replies this much before `waitseconds` ends: the node client's 30 s idle timer must never fire first. */
const LONG_POLL_EARLY_MS = 50;
const MAX_BATCH = 16;
const MAX_BATCH_BYTES = 65536;

function existing(broker: Broker, name: string): EmulatedQueue {
  const queue = broker.queues.get(name);
  if (!queue) fail('QueueNotExist');
  return queue;
}

function send(queue: EmulatedQueue, input: SendInput): StoredMessage {
  return queue.send(input.body, md5Upper(input.body), input.priority, input.delaySeconds);
}

function created(body: string): Reply {
  return { status: 201, body };
}

const NO_CONTENT: Reply = { status: 204 };

export class MnsApi {
  constructor(private readonly broker: Broker) {}

  execute(route: MnsRoute, call: MnsCall): Reply | Promise<Reply> {
    const name = route.queueName;
    switch (route.action) {
      case 'ListQueue':
        return this.listQueue(call);
      case 'CreateQueue':
        return this.createQueue(name, call);
      case 'SetQueueAttributes':
        existing(this.broker, name).setAttributes(parseAttributes(call.body));
        return NO_CONTENT;
      case 'GetQueueAttributes':
        return { status: 200, body: rootElement('Queue', queueFields(existing(this.broker, name))) };
      case 'DeleteQueue':
        if (!this.broker.deleteQueue(name)) fail('QueueNotExist');
        return NO_CONTENT;
      case 'SendMessage': {
        const queue = existing(this.broker, name);
        const message = send(queue, readMessage(parseBody(call.body, 'Message'), queue));
        return created(rootElement('Message', sentFields(message)));
      }
      case 'BatchSendMessage':
        return this.batchSend(existing(this.broker, name), call.body);
      case 'ReceiveMessage':
      case 'BatchReceiveMessage':
        return this.receive(existing(this.broker, name), route.action === 'BatchReceiveMessage', call);
      case 'PeekMessage':
      case 'BatchPeekMessage':
        return this.peek(existing(this.broker, name), route.action === 'BatchPeekMessage', call);
      case 'DeleteMessage':
        return this.deleteMessage(existing(this.broker, name), call);
      case 'BatchDeleteMessage':
        return this.batchDelete(existing(this.broker, name), call.body);
      case 'ChangeMessageVisibility':
        return this.changeVisibility(existing(this.broker, name), call);
    }
  }

  private createQueue(name: string, call: MnsCall): Reply {
    if (name.length > 120) fail('QueueNameLengthError');
    if (!QUEUE_NAME.test(name)) fail('InvalidQueueName');
    const attributes: QueueAttributes = { ...this.broker.defaultAttributes, ...parseAttributes(call.body) };
    const queue = this.broker.queues.get(name);
    if (queue) {
      if (sameAttributes(queue.attributes, attributes)) return NO_CONTENT;
      fail('QueueAlreadyExist');
    }
    this.broker.createQueue(name, attributes);
    return { status: 201, headers: { Location: `${call.hostUrl}/queues/${name}` } };
  }

  private listQueue(call: MnsCall): Reply {
    const header = (key: string): string | undefined => {
      const value = call.headers[key];
      return Array.isArray(value) ? value[0] : value;
    };
    const retText = header('x-mns-ret-number');
    const limit = retText === undefined ? 1000 : integerIn(retText, 'x-mns-ret-number', 1, 1000);
    const prefix = header('x-mns-prefix') ?? '';
    const marker = header('x-mns-marker') ?? '';
    const withMeta = header('x-mns-with-meta')?.toLowerCase() === 'true';
    const names = [...this.broker.queues.keys()].filter(n => n.startsWith(prefix) && n >= marker).sort();
    let inner = '';
    for (const n of names.slice(0, limit)) {
      inner += queueListEntry(this.broker.queues.get(n) as EmulatedQueue, call.hostUrl, withMeta);
    }
    // NextMarker appears only when more results exist (Python chokes on an empty one).
    if (names.length > limit) inner += `<NextMarker>${names[limit]}</NextMarker>`;
    return { status: 200, body: rootElement('Queues', inner) };
  }

  private batchSend(queue: EmulatedQueue, body: string): Reply {
    const items = parseBody(body, 'Messages').children.filter(c => c.name === 'Message');
    if (items.length === 0 || items.length > MAX_BATCH) {
      fail('InvalidArgument', `The count of message should between 1 and ${MAX_BATCH}.`);
    }
    let total = 0;
    for (const item of items) total += Buffer.byteLength(childText(item, 'MessageBody') ?? '', 'utf8');
    if (total > MAX_BATCH_BYTES) {
      fail(
        'InvalidArgument',
        `The total size of messages in one batch should not exceed ${MAX_BATCH_BYTES} bytes.`,
      );
    }
    // Validate every entry first; entries that fail are reported in place, the rest are sent.
    let failed = 0;
    let inner = '';
    for (const item of items) {
      let input: SendInput;
      try {
        input = readMessage(item, queue);
      } catch (err) {
        if (!(err instanceof MnsFailure)) throw err;
        failed += 1;
        inner += `<Message><ErrorCode>${err.errorCode}</ErrorCode><ErrorMessage>${escapeXml(err.message)}</ErrorMessage></Message>`;
        continue;
      }
      inner += `<Message>${sentFields(send(queue, input))}</Message>`;
    }
    return { status: failed > 0 ? 500 : 201, body: rootElement('Messages', inner) };
  }

  private receive(queue: EmulatedQueue, batch: boolean, call: MnsCall): Reply | Promise<Reply> {
    const max = batch ? integerIn(call.query.get('numofmessages') ?? '', 'numOfMessages', 1, MAX_BATCH) : 1;
    const waitText = call.query.get('waitseconds');
    const waitSeconds =
      waitText === undefined
        ? queue.attributes.pollingWaitSeconds
        : integerIn(waitText, 'waitseconds', 0, 30, 'seconds');
    const render = (messages: StoredMessage[] | null): Reply => {
      if (messages === null) fail('QueueNotExist');
      if (messages.length === 0) fail('MessageNotExist');
      return { status: 200, body: messagesReply(messages, false, !batch) };
    };
    const waitMs = waitSeconds > 0 ? Math.max(0, waitSeconds * 1000 - LONG_POLL_EARLY_MS - call.spentMs) : 0;
    if (waitMs === 0) return render(queue.receive(max));
    return new Promise<Reply>((resolve, reject) => {
      const cancel = queue.waitForMessages(max, waitMs, messages => {
        try {
          resolve(render(messages));
        } catch (err) {
          reject(err);
        }
      });
      call.onAbort(cancel);
    });
  }

  private peek(queue: EmulatedQueue, batch: boolean, call: MnsCall): Reply {
    const max = batch ? integerIn(call.query.get('numofmessages') ?? '', 'numOfMessages', 1, MAX_BATCH) : 1;
    const messages = queue.peek(max);
    if (messages.length === 0) fail('MessageNotExist');
    return { status: 200, body: messagesReply(messages, true, !batch) };
  }

  private deleteMessage(queue: EmulatedQueue, call: MnsCall): Reply {
    const handle = call.query.get('receipthandle') ?? '';
    if (handle === '') fail('MissingReceiptHandle');
    const result = queue.delete(handle);
    if (result === 'malformed') fail('ReceiptHandleError');
    if (result === 'missing') fail('MessageNotExist');
    return NO_CONTENT;
  }

  private batchDelete(queue: EmulatedQueue, body: string): Reply {
    if (body.trim() === '') fail('MissingReceiptHandle');
    const handles = parseBody(body, 'ReceiptHandles')
      .children.filter(c => c.name === 'ReceiptHandle')
      .map(c => c.text.trim());
    if (handles.length === 0 || handles.length > MAX_BATCH) {
      fail('InvalidArgument', `The count of receipt handle should between 1 and ${MAX_BATCH}.`);
    }
    let errors = '';
    for (const handle of handles) {
      const result = queue.delete(handle);
      if (result === 'ok') continue;
      const [code, message] =
        result === 'malformed'
          ? ['ReceiptHandleError', 'The receipt handle you provide is not valid.']
          : ['MessageNotExist', 'Message not exist.'];
      errors += `<Error><ErrorCode>${code}</ErrorCode><ErrorMessage>${message}</ErrorMessage><ReceiptHandle>${escapeXml(handle)}</ReceiptHandle></Error>`;
    }
    // Partial (or total) failure: 404 with the failed entries only (spec §6.8).
    return errors === '' ? NO_CONTENT : { status: 404, body: rootElement('Errors', errors) };
  }

  private changeVisibility(queue: EmulatedQueue, call: MnsCall): Reply {
    const handle = call.query.get('receipthandle') ?? '';
    if (handle === '') fail('MissingReceiptHandle');
    const timeoutText = call.query.get('visibilitytimeout');
    if (timeoutText === undefined || timeoutText === '') fail('MissingVisibilityTimeout');
    const seconds = integerIn(timeoutText, 'VisibilityTimeout', 1, 43200, 'seconds');
    const result = queue.changeVisibility(handle, seconds);
    if (result === 'malformed') fail('ReceiptHandleError');
    if (result === 'missing') fail('MessageNotExist');
    return {
      status: 200,
      body: rootElement(
        'ChangeVisibility',
        `<ReceiptHandle>${result.handle}</ReceiptHandle><NextVisibleTime>${result.visibleAtMs}</NextVisibleTime>`,
      ),
    };
  }
}
