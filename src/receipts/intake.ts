import { errorMessage } from '../util/error-message.js';
import { decodeSmqBody, parsePushBody } from './decode.js';
import type { ReceiptEnvelope } from './envelope.js';
import type { MessageType, ReceiptSource } from './types.js';
import { validateReceipt } from './validate.js';

/** Where the receipts of one body come from: copied onto each envelope. */
export interface Origin {
  readonly source: ReceiptSource;
  /** The SMQ queue; undefined for HTTP push. */
  readonly queueName?: string;
  /** When the body entered the system: SMQ EnqueueTime, or HTTP arrival (epoch ms). */
  readonly originTimeMs: number;
  readonly redelivered?: boolean;
}

/** One item of a body: a receipt on its way into the pipeline, or why it is not one. */
export type ItemIntake =
  | { readonly index: number; readonly item: unknown; readonly envelope: ReceiptEnvelope }
  | { readonly index: number; readonly item: unknown; readonly reason: string };

/** A body: not decodable at all, or its items, each a receipt or not. */
export type BodyIntake =
  | { readonly decoded: false; readonly reason: string }
  | { readonly decoded: true; readonly items: readonly ItemIntake[] };

/**
 * Decode → validate → envelope, the one way in for SMQ bodies, HTTP push bodies and dead-letter replays. The
 * body is decoded as its source sends it (SMQ: Base64 of JSON, or raw JSON; HTTP push: a JSON array or
 * object), then each item is validated for `messageType`. Never throws.
 */
export function intakeBody(messageType: MessageType, body: string, origin: Origin): BodyIntake {
  let items: unknown[];
  try {
    items = origin.source === 'http' ? parsePushBody(body) : decodeSmqBody(body);
  } catch (err) {
    return { decoded: false, reason: errorMessage(err) };
  }
  return { decoded: true, items: items.map((item, index) => intakeItem(messageType, item, index, origin)) };
}

function intakeItem(messageType: MessageType, item: unknown, index: number, origin: Origin): ItemIntake {
  let result: ReturnType<typeof validateReceipt>;
  try {
    result = validateReceipt(messageType, item);
  } catch (err) {
    result = { ok: false, reason: errorMessage(err) };
  }
  if (!result.ok) return { index, item, reason: result.reason };
  return { index, item, envelope: envelopeOf(messageType, result.receipt, origin) };
}

/** A receipt already validated (one parked whole) on its way back into the pipeline. */
export function envelopeOf(
  messageType: MessageType,
  receipt: ReceiptEnvelope['receipt'],
  origin: Origin,
): ReceiptEnvelope {
  return {
    messageType,
    receipt,
    source: origin.source,
    ...(origin.queueName === undefined ? {} : { queueName: origin.queueName }),
    originTimeMs: origin.originTimeMs,
    ...(origin.redelivered ? { redelivered: true } : {}),
  };
}
