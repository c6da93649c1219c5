import { createHash } from 'node:crypto';
import { RECEIPT_TYPES, receiptType, type AnyReceipt, type MessageType } from './types.js';

/** The fields each type's default dedupe key is built from, in order. */
export const DEDUPE_FIELDS = Object.fromEntries(RECEIPT_TYPES.map(t => [t.name, t.dedupeFields])) as Readonly<
  Record<MessageType, readonly string[]>
>;

/** Job ids longer than this are replaced by a hash. */
export const MAX_JOB_ID_LENGTH = 128;

/**
 * The key duplicates of one receipt share: its type's {@link DEDUPE_FIELDS} joined by `|` (absent fields
 * empty): `MessageId` (inbound), `MessageId|Status` (status), for audit
 * `WabaId|Type|TemplateCode|Language|AuditStatus|Status|PhoneNumber|CurrentLimit`, `biz_id|phone_number`
 * (SmsReport), `phone_number|sequence_id` (SmsUp).
 * `\` and `|` inside values are escaped with `\`, so distinct field values never join to the same key.
 * Keys of different types differ in their number of separators, or (status against the SMS types, all of two
 * fields) in their second field: a status word against a phone number or a digit sequence id. Job ids also
 * carry the type's prefix. Expects a validated receipt.
 */
export function defaultDedupeKey(type: MessageType, receipt: AnyReceipt): string {
  return DEDUPE_FIELDS[type].map(field => escapePart(fieldText(type, receipt, field))).join('|');
}

/**
 * The BullMQ job id for a receipt: `<prefix>-<key>` (`inbound`, `status`, `audit`, `smsreport`, `smsup`),
 * with every character outside
 * `A-Z a-z 0-9 . _ ~ - | + = @ ,` percent-encoded as UTF-8, so it never contains `:` and is never all
 * digits. Ids that would exceed {@link MAX_JOB_ID_LENGTH} become `<prefix>.<base64url SHA-256 of the key>`.
 * It depends only on the type and the key, so a receipt gets the same id whether it came by SMQ or HTTP.
 */
export function jobIdFor(type: MessageType, dedupeKey: string): string {
  const prefix = receiptType(type).jobIdPrefix;
  const readable = `${prefix}-${percentEncode(dedupeKey)}`;
  if (readable.length <= MAX_JOB_ID_LENGTH) return readable;
  // `.` after the prefix cannot occur in a readable id (which has `-` there), so the two forms never collide.
  return `${prefix}.${createHash('sha256').update(dedupeKey, 'utf8').digest('base64url')}`;
}

function fieldText(type: MessageType, receipt: AnyReceipt, field: string): string {
  const { keyPart } = receiptType(type);
  const value = keyPart ? keyPart(field, receipt[field]) : receipt[field];
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function escapePart(text: string): string {
  return text.replace(/[\\|]/g, ch => `\\${ch}`);
}

const SAFE = /[A-Za-z0-9._~\-|+=@,]/;

function percentEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    if (SAFE.test(ch)) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
