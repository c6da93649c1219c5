import { receiptType, type MessageType, type ReceiptByType } from './types.js';
import { describe } from './types/spec.js';
export { isTemplateEvent } from './types/ChatAppAudit.js';
import { isPlainObject } from '../util/objects.js';

export type ValidationResult<T extends MessageType = MessageType> =
  { readonly ok: true; readonly receipt: ReceiptByType[T] } | { readonly ok: false; readonly reason: string };

type Fields = Record<string, unknown>;

/** Doc versions disagree on the BSUID field names; both spellings are kept and the `From…` one is filled in. */
const ALIASES: readonly (readonly [alias: string, canonical: string])[] = [
  ['UserId', 'FromUserId'],
  ['ParentUserId', 'FromParentUserId'],
  ['UserName', 'FromUserName'],
];

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };

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
  const missing = receiptType(type).missing(normalised);
  if (missing) return { ok: false, reason: `${type} receipt ${missing}` };
  return { ok: true, receipt: normalised as ReceiptByType[T] };
}

function normalise(type: MessageType, item: Fields): Fields | string {
  const out = trimmedKeys(item);
  const spec = receiptType(type);
  const wrong = booleansIn(out, spec.booleanFields ?? []) ?? textsIn(out, spec.textFields);
  if (wrong) return wrong;
  if (typeof out['Timestamp'] === 'string' && /^\d{1,16}$/.test(out['Timestamp'])) {
    out['Timestamp'] = Number(out['Timestamp']);
  } else if (out['Timestamp'] === null) delete out['Timestamp'];
  for (const [alias, canonical] of ALIASES) {
    if (out[canonical] === undefined && typeof out[alias] === 'string') out[canonical] = out[alias];
  }
  return out;
}

function trimmedKeys(item: Fields): Fields {
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
  return out;
}

/** `true`/`false`/`1`/`0` as text or numbers become booleans; returns what is wrong, if anything. */
function booleansIn(out: Fields, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = out[field];
    if (value === null) delete out[field];
    else if (typeof value === 'string' || typeof value === 'number') {
      const flag = BOOLEANS[String(value).trim().toLowerCase()];
      if (flag === undefined) return `${field} is not a boolean (${JSON.stringify(value)})`;
      out[field] = flag;
    }
  }
  return undefined;
}

/** Numbers in text fields become their decimal strings; returns what is wrong, if anything. */
function textsIn(out: Fields, fields: readonly string[]): string | undefined {
  for (const field of fields) {
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
  return undefined;
}
