import { DecodeError } from '../errors.js';
import { errorMessage } from '../util/error-message.js';

// Standard or URL-safe alphabet, with or without padding. Line breaks (MIME-style chunking) are removed
// first; other whitespace is not Base64, so text like "hello world" is never decoded as such.
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one SMQ MessageBody into the receipts it carries (normally exactly one).
 *
 * CAMS writes Base64 of one UTF-8 JSON object. Producers that write raw JSON are accepted too, and a JSON
 * array yields its items. Only a JSON object or array counts: a Base64-looking string that decodes to a
 * number or to bytes that are not UTF-8 is not mistaken for a receipt.
 * @throws DecodeError when the body is neither, or is an empty array.
 */
export function decodeSmqBody(body: string): unknown[] {
  const text = body.trim();
  if (text === '') throw new DecodeError('MessageBody is empty');
  const fromBase64 = tryBase64Json(text);
  if (fromBase64.ok) return nonEmpty(toItems(fromBase64.value));
  const raw = tryJson(text);
  if (!raw.ok) {
    throw new DecodeError(
      `MessageBody is neither Base64 of JSON (${fromBase64.reason}) nor JSON (${raw.reason})`,
    );
  }
  return nonEmpty(toItems(raw.value));
}

function nonEmpty(items: unknown[]): unknown[] {
  if (items.length === 0) throw new DecodeError('MessageBody is an empty JSON array');
  return items;
}

/**
 * Parses an HTTP push body: a JSON array of receipts, or a single receipt object.
 * An empty array yields no receipts.
 * @throws DecodeError when the body is not JSON, or is a JSON string, number, boolean or null.
 */
export function parsePushBody(text: string): unknown[] {
  const parsed = tryJson(text.trim());
  if (!parsed.ok) throw new DecodeError(`body is not JSON: ${parsed.reason}`);
  return toItems(parsed.value);
}

type Attempt = { ok: true; value: object } | { ok: false; reason: string };

function tryBase64Json(text: string): Attempt {
  const compact = text.replace(/\r?\n/g, '');
  if (!BASE64.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    return { ok: false, reason: 'not Base64' };
  }
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(compact, 'base64'));
  } catch {
    return { ok: false, reason: 'decoded bytes are not UTF-8' };
  }
  return tryJson(decoded.trim());
}

function tryJson(text: string): Attempt {
  const clean = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(clean);
  } catch (err) {
    return { ok: false, reason: errorMessage(err) };
  }
  if (typeof value !== 'object' || value === null) {
    return { ok: false, reason: `a JSON ${value === null ? 'null' : typeof value}, not an object or array` };
  }
  return { ok: true, value };
}

function toItems(value: object): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [value];
}
