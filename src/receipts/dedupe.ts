import { createHash } from 'node:crypto';
import type { AnyReceipt, MessageType } from './types.js';
import { isTemplateEvent } from './validate.js';

/** The fields each type's default dedupe key is built from, in order. */
export const DEDUPE_FIELDS: Readonly<Record<MessageType, readonly string[]>> = {
  ChatAppInbound: ['MessageId'],
  ChatAppStatus: ['MessageId', 'Status'],
  // Audit events carry no event id: the key is the whole event state. Type is read as `template` when absent.
  ChatAppAudit: [
    'WabaId',
    'Type',
    'TemplateCode',
    'Language',
    'AuditStatus',
    'Status',
    'PhoneNumber',
    'CurrentLimit',
  ],
};

/** Job ids longer than this are replaced by a hash. */
export const MAX_JOB_ID_LENGTH = 128;

const JOB_ID_PREFIX: Readonly<Record<MessageType, string>> = {
  ChatAppInbound: 'inbound',
  ChatAppStatus: 'status',
  ChatAppAudit: 'audit',
};

/**
 * The key duplicates of one receipt share: `MessageId` (inbound), `MessageId|Status` (status), and for audit
 * `WabaId|Type|TemplateCode|Language|AuditStatus|Status|PhoneNumber|CurrentLimit` (absent fields empty).
 * `\` and `|` inside values are escaped with `\`, so distinct field values never join to the same key, and
 * the keys of different types differ in their number of separators. Expects a validated receipt.
 */
export function defaultDedupeKey(type: MessageType, receipt: AnyReceipt): string {
  return DEDUPE_FIELDS[type].map(field => escapePart(fieldText(type, receipt, field))).join('|');
}

/**
 * The BullMQ job id for a receipt: `<inbound|status|audit>-<key>` with every character outside
 * `A-Z a-z 0-9 . _ ~ - | + = @ ,` percent-encoded as UTF-8, so it never contains `:` and is never all
 * digits. Ids that would exceed {@link MAX_JOB_ID_LENGTH} become `<prefix>.<base64url SHA-256 of the key>`.
 * It depends only on the type and the key, so a receipt gets the same id whether it came by SMQ or HTTP.
 */
export function jobIdFor(type: MessageType, dedupeKey: string): string {
  const prefix = JOB_ID_PREFIX[type];
  const readable = `${prefix}-${percentEncode(dedupeKey)}`;
  if (readable.length <= MAX_JOB_ID_LENGTH) return readable;
  // `.` after the prefix cannot occur in a readable id (which has `-` there), so the two forms never collide.
  return `${prefix}.${createHash('sha256').update(dedupeKey, 'utf8').digest('base64url')}`;
}

function fieldText(type: MessageType, receipt: AnyReceipt, field: string): string {
  const value = receipt[field];
  if (type === 'ChatAppAudit' && field === 'Type' && isTemplateEvent(value)) return 'template';
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
