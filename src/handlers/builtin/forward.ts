import { createHmac, timingSafeEqual } from 'node:crypto';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Handler, HandlerContext } from '../../contracts/handler.js';
import type { AnyReceipt } from '../../receipts/types.js';
import type { Options } from './options.js';
import {
  OptionError,
  messageTypesOption,
  nameOption,
  positiveIntegerOption,
  rejectUnknownOptions,
} from './options.js';

export const DEFAULT_FORWARD_TIMEOUT_MS = 5_000;

export interface ForwardDeps {
  /** Used once, at creation, to warn when there is no secret. */
  readonly logger?: Logger;
}

/**
 * `forward`: POSTs each receipt, as the JSON object it is, to `options.url`.
 *
 * Headers: `Content-Type: application/json`, `X-Cams-Message-Type`, `X-Cams-Dedupe-Key` (percent-encoded),
 * `X-Cams-Source` (`smq`/`http`), `X-Cams-Attempt`, `X-Cams-Timestamp` (Unix seconds) and, when
 * `options.secret` is set, `X-Cams-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<raw body>">`.
 *
 * Outcome: 2xx is success. A timeout, a network error, a 3xx, 408, 429 or 5xx throws an Error, so the job
 * retries. Any other 4xx throws PermanentError: the receiver rejected this receipt, and sending it again
 * will not change that, so it is dead-lettered at once (replayable once the receiver is fixed).
 *
 * Options: `url` (required, http or https), `secret` (recommended), `timeoutMs` (default 5000),
 * `messageTypes` (default all), `name` (default `forward`).
 */
export function createForwardHandler(options: Options, deps: ForwardDeps = {}): Handler {
  const settings = forwardSettings(options);
  const { name, target } = settings;
  if (settings.secret === undefined) {
    deps.logger?.warn('forward handler has no secret: the receiver cannot verify where receipts come from', {
      event: 'forward_unsigned',
      handler: name,
      url: target,
    });
  }
  return {
    name,
    messageTypes: messageTypesOption(options),
    handle: (receipt, ctx) => forward(settings, receipt, ctx),
  };
}

interface ForwardSettings {
  readonly name: string;
  readonly url: URL;
  /** Where requests go, without credentials or query (either may hold a token), for errors and logs. */
  readonly target: string;
  readonly secret: string | undefined;
  readonly timeoutMs: number;
}

function forwardSettings(options: Options): ForwardSettings {
  rejectUnknownOptions(options, ['url', 'secret', 'timeoutMs', 'messageTypes', 'name']);
  const url = urlOption(options['url']);
  const secret = options['secret'];
  if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
    throw new OptionError('options.secret must be a non-empty string');
  }
  return {
    name: nameOption(options, 'forward'),
    url,
    target: `${url.origin}${url.pathname}`,
    secret,
    timeoutMs: positiveIntegerOption(options, 'timeoutMs', DEFAULT_FORWARD_TIMEOUT_MS),
  };
}

/** POSTs one receipt; a 4xx other than 408 and 429 is permanent, anything else but a 2xx is retried. */
async function forward(settings: ForwardSettings, receipt: AnyReceipt, ctx: HandlerContext): Promise<void> {
  const { url, target, secret, timeoutMs } = settings;
  const body = JSON.stringify(receipt);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'x-cams-message-type': ctx.messageType,
    'x-cams-dedupe-key': encodeURIComponent(ctx.dedupeKey),
    'x-cams-source': ctx.source,
    'x-cams-attempt': String(ctx.attempt),
    'x-cams-timestamp': timestamp,
  };
  if (secret !== undefined) headers['x-cams-signature'] = `sha256=${signForward(secret, timestamp, body)}`;
  const startedMs = Date.now();
  const response = await post(url, target, headers, body, timeoutMs, ctx.signal);
  // The body is not used; draining it lets the connection be reused.
  await response.body?.cancel().catch(() => undefined);
  const { status } = response;
  if (status >= 200 && status < 300) {
    ctx.logger.debug('receipt forwarded', {
      event: 'receipt_forwarded',
      url: target,
      status,
      durationMs: Date.now() - startedMs,
    });
    return;
  }
  const message = `forward to ${target} answered HTTP ${status}`;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new PermanentError(message);
  throw new Error(message);
}

/** The hex HMAC-SHA256 a receiver recomputes to check `X-Cams-Signature` (after `sha256=`). */
export function signForward(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * For receivers written in Node: checks an `X-Cams-Signature` header against the raw request body and the
 * `X-Cams-Timestamp` header, in constant time, and that the timestamp is within `toleranceSeconds` of now
 * (a captured request cannot be replayed later).
 */
export function verifyForwardSignature(
  secret: string,
  signatureHeader: string | undefined,
  timestampHeader: string | undefined,
  rawBody: string,
  toleranceSeconds = 300,
  nowMs = Date.now(),
): boolean {
  if (!signatureHeader || !timestampHeader || !/^\d+$/.test(timestampHeader)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestampHeader)) > toleranceSeconds) return false;
  const expected = Buffer.from(`sha256=${signForward(secret, timestampHeader, rawBody)}`);
  const given = Buffer.from(signatureHeader);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function post(
  url: URL,
  target: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  shutdown: AbortSignal,
): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    // redirect: 'manual' because following a 301/302 would turn the POST into a GET without the body.
    return await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([shutdown, timeout]),
    });
  } catch (err) {
    if (timeout.aborted)
      throw new Error(`forward to ${target} timed out after ${timeoutMs} ms`, { cause: err });
    if (shutdown.aborted) throw new Error(`forward to ${target} aborted`, { cause: err });
    throw new Error(`forward to ${target} failed: ${networkReason(err)}`, { cause: err });
  }
}

function urlOption(value: unknown): URL {
  if (typeof value !== 'string' || value === '') {
    throw new OptionError('options.url is required (the http(s) URL receipts are POSTed to)');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError('options.url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OptionError(`options.url must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  return url;
}

/** fetch reports "fetch failed" and puts the useful part (ECONNREFUSED…) in `cause`. */
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return err.message;
}
