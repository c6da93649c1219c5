import { receiptType, type AnyReceipt } from '../../receipts/types.js';
import type { Handler } from '../../contracts/handler.js';
import type { Options } from './options.js';
import { OptionError, messageTypesOption, nameOption, rejectUnknownOptions } from './options.js';

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/**
 * `log`: writes one `receipt_handled` line per receipt through the handler's logger.
 * Options: `level` (default `info`), `messageTypes` (default all), `name` (default `log`).
 */
export function createLogHandler(options: Options = {}): Handler {
  rejectUnknownOptions(options, ['level', 'messageTypes', 'name']);
  const level = options['level'] ?? 'info';
  if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    throw new OptionError(`options.level must be one of ${LEVELS.join(', ')}`);
  }
  return {
    name: nameOption(options, 'log'),
    messageTypes: messageTypesOption(options),
    handle(receipt, ctx) {
      ctx.logger.log(level, 'receipt handled', {
        event: 'receipt_handled',
        messageType: ctx.messageType,
        source: ctx.source,
        queueName: ctx.queueName,
        dedupeKey: ctx.dedupeKey,
        attempt: ctx.attempt,
        ...pick(receipt, receiptType(ctx.messageType).loggedFields),
      });
    },
  };
}

function pick(receipt: AnyReceipt, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (receipt[field] !== undefined) out[field] = receipt[field];
  return out;
}
