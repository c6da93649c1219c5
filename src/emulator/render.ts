import type { EmulatedQueue } from './queue.js';
import type { StoredMessage } from './queue-types.js';
import { escapeXml } from './xml.js';

/**
 * Reply bodies, built by concatenation for speed. The namespace goes on the root only and child
 * elements carry no attributes: `@alicloud/mns` crashes on either (spec §9.1).
 */
const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = ' xmlns="http://mns.aliyuncs.com/doc/v1/"';

export function rootElement(name: string, inner: string): string {
  return inner === '' ? `${PROLOG}<${name}${NS}/>` : `${PROLOG}<${name}${NS}>${inner}</${name}>`;
}

export function errorXml(code: string, message: string, requestId: string, hostId: string): string {
  return rootElement(
    'Error',
    `<Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
      `<RequestId>${requestId}</RequestId><HostId>${escapeXml(hostId)}</HostId>`,
  );
}

/** What changes per receive: the id and handle before the fixed fields, the dequeue data after them. */
function headXml(m: StoredMessage, peek: boolean): string {
  return peek
    ? `<MessageId>${m.id}</MessageId>`
    : `<MessageId>${m.id}</MessageId><ReceiptHandle>${m.handle}</ReceiptHandle>`;
}

function tailXml(m: StoredMessage, peek: boolean): string {
  const next = peek ? '' : `<NextVisibleTime>${m.visibleAtMs}</NextVisibleTime>`;
  return (
    `<FirstDequeueTime>${m.firstDequeueTimeMs}</FirstDequeueTime>${next}` +
    `<DequeueCount>${m.dequeueCount}</DequeueCount><Priority>${m.priority}</Priority>`
  );
}

/**
 * A receive or peek reply written straight into one Buffer: the nine receive fields (or the seven peek
 * fields, without handle and NextVisibleTime) per message. `single` gives the one-message `<Message>`
 * root of ReceiveMessage/PeekMessage; otherwise a `<Messages>` list. Ids, handles and numbers are ASCII,
 * so they are written as latin1; the body part was escaped once at send time.
 */
export function messagesReply(messages: readonly StoredMessage[], peek: boolean, single: boolean): Buffer {
  const open = single ? `${PROLOG}<Message${NS}>` : `${PROLOG}<Messages${NS}>`;
  const close = single ? '</Message>' : '</Messages>';
  const itemOpen = single ? '' : '<Message>';
  const itemClose = single ? '' : '</Message>';
  const heads: string[] = [];
  const tails: string[] = [];
  let size = open.length + close.length;
  for (const m of messages) {
    const head = itemOpen + headXml(m, peek);
    const tail = tailXml(m, peek) + itemClose;
    heads.push(head);
    tails.push(tail);
    size += head.length + m.fixedBytes + tail.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(open, 0, 'latin1');
  for (let i = 0; i < messages.length; i += 1) {
    at += out.write(heads[i] as string, at, 'latin1');
    at += out.write((messages[i] as StoredMessage).fixedXml, at, 'utf8');
    at += out.write(tails[i] as string, at, 'latin1');
  }
  out.write(close, at, 'latin1');
  return out;
}

export function sentFields(m: StoredMessage): string {
  const handle = m.handle !== '' ? `<ReceiptHandle>${m.handle}</ReceiptHandle>` : '';
  return `<MessageId>${m.id}</MessageId><MessageBodyMD5>${m.bodyMd5}</MessageBodyMD5>${handle}`;
}

function bool(value: boolean): string {
  return value ? 'True' : 'False';
}

/** One ListQueue entry: QueueName and QueueURL, plus the other eleven attribute fields when meta is asked for. */
export function queueListEntry(queue: EmulatedQueue, hostUrl: string, withMeta: boolean): string {
  const meta = withMeta ? attributeFields(queue) : '';
  return `<Queue><QueueName>${queue.name}</QueueName><QueueURL>${hostUrl}/queues/${queue.name}</QueueURL>${meta}</Queue>`;
}

/** The twelve GetQueueAttributes fields (Python requires all of them). */
export function queueFields(queue: EmulatedQueue): string {
  return `<QueueName>${queue.name}</QueueName>${attributeFields(queue)}`;
}

function attributeFields(queue: EmulatedQueue): string {
  const a = queue.attributes;
  const s = queue.snapshot();
  return (
    `<CreateTime>${queue.createTimeS}</CreateTime>` +
    `<LastModifyTime>${queue.lastModifyTimeS}</LastModifyTime><DelaySeconds>${a.delaySeconds}</DelaySeconds>` +
    `<MaximumMessageSize>${a.maximumMessageSize}</MaximumMessageSize>` +
    `<MessageRetentionPeriod>${a.messageRetentionPeriod}</MessageRetentionPeriod>` +
    `<VisibilityTimeout>${a.visibilityTimeout}</VisibilityTimeout>` +
    `<PollingWaitSeconds>${a.pollingWaitSeconds}</PollingWaitSeconds>` +
    `<ActiveMessages>${s.visible}</ActiveMessages><InactiveMessages>${s.inFlight}</InactiveMessages>` +
    `<DelayMessages>${s.delayed}</DelayMessages><LoggingEnabled>${bool(a.loggingEnabled)}</LoggingEnabled>`
  );
}
