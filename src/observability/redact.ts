import { errorMessage } from '../util/error-message.js';

/** Keys whose values are secrets wherever they appear: config dumps, log metadata, error details. */
const SECRET_KEY =
  /(secret|token|password|passwd|authorization|accesskeyid|access_key|signature|credential)/i;

export const REDACTED = '[REDACTED]';

/** A deep copy of `value` with every secret-named field replaced by `[REDACTED]`. */
export function redact<T>(value: T, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map(v => redact(v, seen)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const secret = SECRET_KEY.test(key) && v !== '' && v !== undefined && v !== null && typeof v !== 'object';
    out[key] = secret ? REDACTED : redact(v, seen);
  }
  return out as T;
}

const SECRET_PARAM = '(?:Signature|SecurityToken|AccessKeyId|OIDCToken|security-token)';
const PLAIN_PARAM = new RegExp(`(${SECRET_PARAM}[=:]\\s*)[^&\\s"',]+`, 'gi');
const ENCODED_PARAM = new RegExp(`(${SECRET_PARAM}%3D)(?:(?!%26)[^&\\s"',])+`, 'gi');

/**
 * Scrubs secrets that leaked into free text: `MNS id:signature` headers, `Signature=`/token query
 * values, and the same percent-encoded (`AccessKeyId%3D…`), as a quoted string-to-sign has them.
 */
export function redactText(text: string): string {
  return text
    .replace(/MNS [^\s:]+:[A-Za-z0-9+/=]+/g, `MNS ${REDACTED}`)
    .replace(PLAIN_PARAM, `$1${REDACTED}`)
    .replace(ENCODED_PARAM, `$1${REDACTED}`);
}

/** The message of whatever was thrown, scrubbed for printing. */
export function redactedMessage(err: unknown): string {
  return redactText(errorMessage(err));
}
