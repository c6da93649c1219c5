import type { DeadLetterInput, ReceiptEnvelope } from '../receipts/envelope.js';
import { intakeBody } from '../receipts/intake.js';
import type { MessageType } from '../receipts/types.js';
import type { Lease } from './lease-keeper.js';
import type { SmqMessage } from './types.js';

/** One received SMQ message on its way through the loop. */
export interface Delivery {
  readonly message: SmqMessage;
  readonly lease: Lease;
  /** The valid receipts it carries, ready for the sink. */
  readonly envelopes: readonly ReceiptEnvelope[];
  /** What it carries that is not a receipt, ready for the dead-letter store. */
  readonly rejects: readonly DeadLetterInput[];
}

/** SMQ metadata kept with a dead-lettered body, enough to find the message in SMQ logs. */
export function smqMetadata(message: SmqMessage): Record<string, string | number> {
  return {
    MessageId: message.messageId,
    DequeueCount: message.dequeueCount,
    EnqueueTime: message.enqueueTimeMs,
    FirstDequeueTime: message.firstDequeueTimeMs,
  };
}

/**
 * Decodes and validates a message body. Nothing here throws: a body that is not a receipt becomes a
 * `decode` reject, an item that fails validation an `invalid` reject, both with the raw body.
 */
export function toDelivery(
  message: SmqMessage,
  lease: Lease,
  messageType: MessageType,
  queueName: string,
): Delivery {
  const reject = (reason: 'decode' | 'invalid', error: string): DeadLetterInput => ({
    messageType,
    source: 'smq',
    reason,
    error,
    raw: message.body,
    queueName,
    smq: smqMetadata(message),
  });
  const intake = intakeBody(messageType, message.body, {
    source: 'smq',
    queueName,
    originTimeMs: message.enqueueTimeMs > 0 ? message.enqueueTimeMs : Date.now(),
    redelivered: message.dequeueCount > 1,
  });
  if (!intake.decoded) return { message, lease, envelopes: [], rejects: [reject('decode', intake.reason)] };
  const many = intake.items.length > 1;
  return {
    message,
    lease,
    envelopes: intake.items.flatMap(i => ('envelope' in i ? [i.envelope] : [])),
    rejects: intake.items.flatMap(i =>
      'reason' in i ? [reject('invalid', many ? `item ${i.index}: ${i.reason}` : i.reason)] : [],
    ),
  };
}
