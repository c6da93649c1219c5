import type { MessageType, ReceiptByType } from './types.js';
import { isPlainObject } from '../util/objects.js';

export type ValidationResult<T extends MessageType = MessageType> =
  { readonly ok: true; readonly receipt: ReceiptByType[T] } | { readonly ok: false; readonly reason: string };

type Fields = Record<string, unknown>;

/** Known text fields: a number given here (ErrorCode 131026, a numeric WabaId) becomes its decimal string. */
const TEXT_FIELDS: Readonly<Record<MessageType, readonly string[]>> = {
  ChatAppInbound: words(`MessageId CustSpaceId WabaId From To DisplayName Name Type Message
    FromUserId FromParentUserId FromUserName`),
  ChatAppStatus: words(`MessageId Status From To StatusDescription ErrorCode ErrorDescription ConversationType
    ConversationId MsgFrameType Type TaskId OriginPhoneNumber TemplateCode Language
    FromUserId FromParentUserId FromUserName`),
  ChatAppAudit: words('WabaId TemplateCode Language AuditStatus Reason Type PhoneNumber Status CurrentLimit'),
};

/** Doc versions disagree on the BSUID field names; both spellings are kept and the `From…` one is filled in. */
const ALIASES: readonly (readonly [alias: string, canonical: string])[] = [
  ['UserId', 'FromUserId'],
  ['ParentUserId', 'FromParentUserId'],
  ['UserName', 'FromUserName'],
];

/** An audit event other than a template review must say what changed through at least one of these. */
const STATE_FIELDS = ['AuditStatus', 'Status', 'CurrentLimit', 'PhoneNumber', 'TemplateCode'] as const;

/**
 * Checks that `item` is a receipt of `type` carrying the fields its dedupe key is built from, and returns a
 * normalised shallow copy. Unknown fields are kept. Normalisation is limited to what makes typed access
 * safe: numbers in known text fields become strings, `null` in a known field means absent, a digit-string
 * Timestamp becomes a number, keys with stray whitespace (`"Timestamp "`) are trimmed, and the BSUID
 * aliases `UserId`/`ParentUserId`/`UserName` also fill `FromUserId`/`FromParentUserId`/`FromUserName`.
 */
export function validateReceipt<T extends MessageType>(type: T, item: unknown): ValidationResult<T> {
  if (!isPlainObject(item))
    return { ok: false, reason: `a ${type} receipt must be a JSON object, got ${describe(item)}` };
  const normalised = normalise(type, item);
  if (typeof normalised === 'string') return { ok: false, reason: normalised };
  const missing = missingKeyFields(type, normalised);
  if (missing) return { ok: false, reason: `${type} receipt ${missing}` };
  return { ok: true, receipt: normalised as ReceiptByType[T] };
}

function normalise(type: MessageType, item: Fields): Fields | string {
  const out: Fields = {};
  for (const rawKey of Object.keys(item)) {
    const trimmed = rawKey.trim();
    const key = trimmed !== rawKey && Object.hasOwn(item, trimmed) ? rawKey : trimmed;
    // Defined, not assigned, so a JSON "__proto__" key stays a plain field.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: item[rawKey],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = item[rawKey];
  }
  for (const field of TEXT_FIELDS[type]) {
    const value = out[field];
    if (value === null) delete out[field];
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${field} is not a finite number`;
      // A numeric id past 2^53 has already lost digits in JSON.parse; two receipts could collide.
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return `${field} is a number too large to be exact (${value}); send it as a string`;
      }
      out[field] = String(value);
    }
  }
  if (typeof out['Timestamp'] === 'string' && /^\d{1,16}$/.test(out['Timestamp'])) {
    out['Timestamp'] = Number(out['Timestamp']);
  } else if (out['Timestamp'] === null) delete out['Timestamp'];
  for (const [alias, canonical] of ALIASES) {
    if (out[canonical] === undefined && typeof out[alias] === 'string') out[canonical] = out[alias];
  }
  return out;
}

/** Returns what is missing (as the tail of a sentence), or undefined when the key fields are present. */
function missingKeyFields(type: MessageType, r: Fields): string | undefined {
  switch (type) {
    case 'ChatAppInbound':
      return requireText(r, 'MessageId');
    case 'ChatAppStatus':
      return requireText(r, 'MessageId') ?? requireText(r, 'Status');
    case 'ChatAppAudit': {
      const waba = requireText(r, 'WabaId');
      if (waba) return waba;
      if (r['Type'] !== undefined && typeof r['Type'] !== 'string') return 'has a Type that is not a string';
      if (isTemplateEvent(r['Type'])) return requireText(r, 'TemplateCode') ?? requireText(r, 'AuditStatus');
      const hasState = STATE_FIELDS.some(f => typeof r[f] === 'string' && r[f] !== '');
      return hasState ? undefined : `of Type ${String(r['Type'])} needs one of ${STATE_FIELDS.join(', ')}`;
    }
  }
}

/** V1 audit receipts have no Type; V2 says `template` for the same template-review event. */
export function isTemplateEvent(type: unknown): boolean {
  return type === undefined || (typeof type === 'string' && type.toLowerCase() === 'template');
}

function requireText(r: Fields, field: string): string | undefined {
  const value = r[field];
  if (value === undefined) return `is missing ${field}`;
  if (typeof value !== 'string') return `has a ${field} that is not a string (${describe(value)})`;
  if (value === '') return `has an empty ${field}`;
  return undefined;
}

function words(list: string): readonly string[] {
  return list.trim().split(/\s+/);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
