import type { AnyReceipt, MessageType } from './types.js';

/**
 * ChatAppInbound's `Message` is plain text for TEXT and a JSON-encoded object for the other types
 * (IMAGE, LOCATION, REPLY…). Returns that object parsed, or undefined for TEXT, a missing Message, or text
 * that is not a JSON object or array. A `Message` that already arrived as an object is returned as it is.
 * Typed for any receipt so it fits wherever receipts are not yet narrowed by type.
 */
export function parseInboundMessage(receipt: AnyReceipt): unknown {
  const message = receipt['Message'];
  const type = receipt['Type'];
  // A TEXT message may itself look like JSON; it is still text.
  if (typeof type === 'string' && type.toUpperCase() === 'TEXT') return undefined;
  if (typeof message === 'object' && message !== null) return message;
  if (typeof message !== 'string') return undefined;
  const text = message.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `ctx.parsedMessage` for a receipt of any type: the parsed inbound Message, undefined otherwise. */
export function parsedMessageFor(type: MessageType, receipt: AnyReceipt): unknown {
  return type === 'ChatAppInbound' ? parseInboundMessage(receipt) : undefined;
}
