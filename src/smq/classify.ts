import { SmqError, StoreError, TokenError, type SmqErrorClass } from '../errors.js';
import { redactText } from '../observability/redact.js';
import type { LoopErrorClass } from '../contracts/telemetry.js';

/** SMQ error codes and the class the consumer loop reacts to. Codes not listed fall back to the HTTP status. */
const CODE_CLASS: Readonly<Record<string, SmqErrorClass>> = {
  MessageNotExist: 'empty',
  QueueNotExist: 'queue_missing',
  TooManyRequests: 'throttled',
  QpsLimitExceeded: 'throttled',
  Throttling: 'throttled',
  AccessDenied: 'auth',
  InvalidAccessKeyId: 'auth',
  SignatureDoesNotMatch: 'auth',
  TimeExpired: 'auth',
  MissingAuthorizationHeader: 'auth',
  InvalidAuthorizationHeader: 'auth',
  SecurityTokenExpired: 'auth',
  MissingSecurityToken: 'auth',
  InvalidSecurityToken: 'auth',
  InternalError: 'server',
  InternalServerError: 'server',
  ServiceUnavailable: 'server',
};

/** Node socket errors that mean the request never completed; the call is safe to repeat later. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ABORT_ERR',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The class for an HTTP status when the body named no code we know. */
export function classifyStatus(status: number): SmqErrorClass {
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server';
  return 'client';
}

/** The class for an SMQ or POP error code; prefix matches cover variants such as `Throttling.User`. */
export function classifyCode(code: string, status?: number): SmqErrorClass {
  const exact = CODE_CLASS[code] ?? CODE_CLASS[code.split('.')[0] ?? ''];
  if (exact) return exact;
  if (/token/i.test(code) && /(expired|invalid)/i.test(code)) return 'auth';
  if (/^InvalidAccessKeyId|^Forbidden|^NoPermission|^SignatureDoesNotMatch/.test(code)) return 'auth';
  if (/^Throttling|LimitExceeded$/.test(code)) return 'throttled';
  return status === undefined ? 'client' : classifyStatus(status);
}

function isNetworkError(err: Error & { code?: unknown }): boolean {
  if (typeof err.code === 'string' && (NETWORK_CODES.has(err.code) || err.code.startsWith('UND_ERR')))
    return true;
  if (err.name === 'AbortError' || /^(ReadTimeout|ConnectTimeout)?RequestTimeoutError$/.test(err.name))
    return true;
  return /socket hang up|ECONNRESET|ECONNREFUSED|aborted/i.test(err.message);
}

/** `@alicloud/mns` names its errors `MNS<Code>Error` and writes the status into the message. */
function fromMnsError(err: Error): { code: string; status?: number } | undefined {
  const match = /^MNS(\w+)Error$/.exec(err.name);
  if (!match?.[1]) return undefined;
  const status = /failed with (\d{3})/.exec(err.message)?.[1];
  return { code: match[1], status: status ? Number(status) : undefined };
}

/**
 * Turns whatever an SMQ call threw (an `@alicloud/mns` error, a socket error, an XML parse failure)
 * into an SmqError with the class the consumer loop acts on.
 */
export function toSmqError(err: unknown, operation: string): SmqError {
  if (err instanceof SmqError) return err;
  if (!(err instanceof Error)) return new SmqError(`${operation}: ${String(err)}`, 'server');
  const mns = fromMnsError(err);
  const message = `${operation}: ${redactText(err.message)}`;
  if (mns) return new SmqError(message, classifyCode(mns.code, mns.status), mns.code, { cause: err });
  if (isNetworkError(err)) return new SmqError(message, 'network', undefined, { cause: err });
  // An unparsable or unexpected reply (XML errors, a wrong root element): the server misbehaved.
  return new SmqError(message, 'server', undefined, { cause: err });
}

/** The class of anything a consumer loop step threw. */
export function classifyLoopError(err: unknown): LoopErrorClass {
  if (err instanceof SmqError || err instanceof TokenError) return err.errorClass;
  if (err instanceof StoreError) return 'store';
  return 'unexpected';
}
