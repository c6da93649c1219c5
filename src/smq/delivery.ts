import type { DeadLetterInput, ReceiptEnvelope } from '../receipts/envelope.js';
import { decodeSmqBody } from '../receipts/decode.js';
import type { MessageType } from '../receipts/types.js';
import { validateReceipt } from '../receipts/validate.js';
import type { Lease } from './lease-keeper.js';
import type { SmqMessage } from './types.js';
import { errorMessage } from '../util/error-message.js';

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
  let items: unknown[];
  try {
    items = decodeSmqBody(message.body);
  } catch (err) {
    return { message, lease, envelopes: [], rejects: [reject('decode', errorMessage(err))] };
  }
  const envelopes: ReceiptEnvelope[] = [];
  const rejects: DeadLetterInput[] = [];
  items.forEach((item, index) => {
    const result = safeValidate(messageType, item);
    if (result.ok) {
      envelopes.push({
        messageType,
        receipt: result.receipt,
        source: 'smq',
        queueName,
        originTimeMs: message.enqueueTimeMs > 0 ? message.enqueueTimeMs : Date.now(),
        ...(message.dequeueCount > 1 ? { redelivered: true } : {}),
      });
    } else {
      rejects.push(reject('invalid', items.length > 1 ? `item ${index}: ${result.reason}` : result.reason));
    }
  });
  return { message, lease, envelopes, rejects };
}

function safeValidate(messageType: MessageType, item: unknown): ReturnType<typeof validateReceipt> {
  try {
    return validateReceipt(messageType, item);
  } catch (err) {
    return { ok: false, reason: errorMessage(err) };
  }
}
