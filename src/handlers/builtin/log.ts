import { receiptType, type AnyReceipt } from '../../receipts/types.js';
import type { Handler } from '../../contracts/handler.js';
import type { Options } from './options.js';
import { OptionError, messageTypesOption, nameOption, rejectUnknownOptions } from './options.js';

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/** Receipt fields that hold a phone number. */
const PHONE_FIELDS = new Set(['From', 'To', 'PhoneNumber', 'phone_number']);

/**
 * `log`: writes one `receipt_handled` line per receipt through the handler's logger.
 * Options: `level` (default `info`), `messageTypes` (default all), `name` (default `log`),
 * `maskPhoneNumbers` (default true: phone numbers show only their last 4 digits, in the dedupe key too).
 */
export function createLogHandler(options: Options = {}): Handler {
  rejectUnknownOptions(options, ['level', 'messageTypes', 'name', 'maskPhoneNumbers']);
  const level = options['level'] ?? 'info';
  if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    throw new OptionError(`options.level must be one of ${LEVELS.join(', ')}`);
  }
  const mask = options['maskPhoneNumbers'] ?? true;
  if (typeof mask !== 'boolean') throw new OptionError('options.maskPhoneNumbers must be true or false');
  return {
    name: nameOption(options, 'log'),
    messageTypes: messageTypesOption(options),
    handle(receipt, ctx) {
      ctx.logger.log(level, 'receipt handled', {
        event: 'receipt_handled',
        messageType: ctx.messageType,
        source: ctx.source,
        queueName: ctx.queueName,
        attempt: ctx.attempt,
        ...(mask
          ? masked(receipt, ctx.dedupeKey, receiptType(ctx.messageType).loggedFields)
          : {
              dedupeKey: ctx.dedupeKey,
              ...pick(receipt, receiptType(ctx.messageType).loggedFields),
            }),
      });
    },
  };
}

function pick(receipt: AnyReceipt, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (receipt[field] !== undefined) out[field] = receipt[field];
  return out;
}

/** `8613800000008` → `*********0008`. */
export function maskPhoneNumber(value: string): string {
  return value.replace(/\d(?=\d{4})/g, '*');
}

/** The logged fields and the dedupe key with every phone number masked. */
function masked(receipt: AnyReceipt, dedupeKey: string, fields: readonly string[]): Record<string, unknown> {
  const out = pick(receipt, fields);
  let key = dedupeKey;
  for (const field of PHONE_FIELDS) {
    const value = out[field];
    if (typeof value !== 'string' || value === '') continue;
    out[field] = maskPhoneNumber(value);
    key = key.split(value).join(out[field] as string);
  }
  return { dedupeKey: key, ...out };
}
