import type { EmulatedQueue, StoredMessage } from './queue.js';
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

/** The nine receive fields, or the seven peek fields (no handle, no NextVisibleTime). */
export function messageFields(m: StoredMessage, peek: boolean): string {
  const head = peek
    ? `<MessageId>${m.id}</MessageId>`
    : `<MessageId>${m.id}</MessageId><ReceiptHandle>${m.handle}</ReceiptHandle>`;
  const tail = peek ? '' : `<NextVisibleTime>${m.visibleAtMs}</NextVisibleTime>`;
  return (
    head +
    `<MessageBodyMD5>${m.bodyMd5}</MessageBodyMD5><MessageBody>${m.bodyXml}</MessageBody>` +
    `<EnqueueTime>${m.enqueueTimeMs}</EnqueueTime><FirstDequeueTime>${m.firstDequeueTimeMs}</FirstDequeueTime>` +
    tail +
    `<DequeueCount>${m.dequeueCount}</DequeueCount><Priority>${m.priority}</Priority>`
  );
}

export function messagesXml(messages: readonly StoredMessage[], peek: boolean): string {
  let inner = '';
  for (const m of messages) inner += `<Message>${messageFields(m, peek)}</Message>`;
  return rootElement('Messages', inner);
}

export function sentFields(m: StoredMessage): string {
  const handle = m.handle !== '' ? `<ReceiptHandle>${m.handle}</ReceiptHandle>` : '';
  return `<MessageId>${m.id}</MessageId><MessageBodyMD5>${m.bodyMd5}</MessageBodyMD5>${handle}`;
}

function bool(value: boolean): string {
  return value ? 'True' : 'False';
}

/** The twelve GetQueueAttributes fields (Python requires all of them). */
export function queueFields(queue: EmulatedQueue): string {
  const a = queue.attributes;
  const s = queue.snapshot();
  return (
    `<QueueName>${queue.name}</QueueName><CreateTime>${queue.createTimeS}</CreateTime>` +
    `<LastModifyTime>${queue.lastModifyTimeS}</LastModifyTime><DelaySeconds>${a.delaySeconds}</DelaySeconds>` +
    `<MaximumMessageSize>${a.maximumMessageSize}</MaximumMessageSize>` +
    `<MessageRetentionPeriod>${a.messageRetentionPeriod}</MessageRetentionPeriod>` +
    `<VisibilityTimeout>${a.visibilityTimeout}</VisibilityTimeout>` +
    `<PollingWaitSeconds>${a.pollingWaitSeconds}</PollingWaitSeconds>` +
    `<ActiveMessages>${s.visible}</ActiveMessages><InactiveMessages>${s.inFlight}</InactiveMessages>` +
    `<DelayMessages>${s.delayed}</DelayMessages><LoggingEnabled>${bool(a.loggingEnabled)}</LoggingEnabled>`
  );
}
