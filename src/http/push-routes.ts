import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onResponseHookHandler,
} from 'fastify';
import type { Logger } from '../contracts/logger.js';
import type { PushEvent } from '../contracts/telemetry.js';
import { REDACTED, redactText } from '../observability/redact.js';
import type { DeadLetterSink, ReceiptSink } from '../contracts/pipeline.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import { acceptBatch, type BatchOutcome } from './batch.js';
import { guardHooks, methodNotAllowed } from './guards.js';
import { sendError, sendFailure, sendSuccess } from './replies.js';

export interface PushRoutesOptions {
  /** The push path of each receipt type, e.g. `/appstatus`. */
  readonly paths: Readonly<Record<MessageType, string>>;
  /** `''` for none; see {@link guardHooks}. */
  readonly secret: string;
  readonly allowlist: readonly string[];
  /** Larger bodies get 413. */
  readonly bodyLimitBytes: number;
  /** Reply 503 when Redis has not acknowledged a batch within this long. */
  readonly storeTimeoutMs: number;
  readonly sink: ReceiptSink;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  /** Called once per push request after the reply; must not throw (errors are swallowed). */
  readonly onPush?: (event: PushEvent) => void;
}

/** Characters of a rejected body kept in the log line. */
const SAMPLE_CHARS = 200;
const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/**
 * The CAMS HTTP batch push endpoints: one POST route per receipt type. Registered as an encapsulated
 * plugin, so its raw-text body parsers and error handler do not touch routes mounted beside it.
 */
export const pushRoutes: FastifyPluginAsync<PushRoutesOptions> = async (app, opts) => {
  readBodiesAsText(app, opts);
  const guards = guardHooks({
    secret: opts.secret,
    allowlist: opts.allowlist,
    onRefused: (request, why) =>
      opts.logger.warn('push refused', {
        event: 'push_refused',
        reason: why,
        ip: request.ip,
        messageType: typeOf(request),
      }),
  });
  const tallies = new WeakMap<FastifyRequest, BatchOutcome>();
  const onResponse = opts.onPush ? [reportHook(opts.onPush, tallies)] : [];
  for (const type of MESSAGE_TYPES) {
    // An empty path: this type is not received by push.
    if (opts.paths[type] === '') continue;
    for (const url of urlsFor(opts.paths[type], opts.secret)) {
      pushRoute(app, opts, { type, url, guards, onResponse, tallies });
    }
  }
};

/**
 * Every body is read as UTF-8 text whatever the content type (CAMS does not document one; a missing one
 * is tolerated), so non-JSON gets our own 400 with a sample in the log; a body over the limit gets 413.
 */
function readBodiesAsText(app: FastifyInstance, opts: PushRoutesOptions): void {
  app.addContentTypeParser(
    ['application/json', 'text/plain', '*'],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.statusCode === 413) {
      opts.logger.warn('push rejected: body too large', {
        event: 'push_rejected',
        messageType: typeOf(request),
        reason: 'too_large',
        limitBytes: opts.bodyLimitBytes,
        contentLength: request.headers['content-length'],
      });
      return sendFailure(reply, 413, `body is larger than ${opts.bodyLimitBytes} bytes`);
    }
    return sendError(reply, err);
  });
}

interface RouteParts {
  readonly type: MessageType;
  readonly url: string;
  readonly guards: onRequestHookHandler[];
  readonly onResponse: onResponseHookHandler[];
  readonly tallies: WeakMap<FastifyRequest, BatchOutcome>;
}

/** The POST route of one push URL, and a 405 for its other methods. */
function pushRoute(app: FastifyInstance, opts: PushRoutesOptions, parts: RouteParts): void {
  const { type, url, guards, tallies } = parts;
  const config = { messageType: type };
  const stores = { sink: opts.sink, deadLetters: opts.deadLetters, storeTimeoutMs: opts.storeTimeoutMs };
  app.route({
    method: 'POST',
    url,
    bodyLimit: opts.bodyLimitBytes,
    config,
    onRequest: guards,
    onResponse: parts.onResponse,
    handler: async (request, reply) => {
      const outcome = await acceptBatch(type, bodyText(request), Date.now(), stores);
      tallies.set(request, outcome);
      return replyTo(reply, type, outcome, opts);
    },
  });
  app.route({
    method: OTHER_METHODS,
    url,
    exposeHeadRoute: false,
    config,
    onRequest: [...guards, methodNotAllowed('POST')],
    handler: async () => undefined, // never reached: the onRequest hook has replied
  });
}

/** With a secret, the path form `/inbound/<secret>` and the query form `/inbound?token=<secret>`. */
function urlsFor(path: string, secret: string): string[] {
  return secret === '' ? [path] : [path, `${path}/:secret`];
}

function bodyText(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

function typeOf(request: FastifyRequest): string | undefined {
  const config = request.routeOptions.config as { messageType?: string };
  return config.messageType;
}

function replyTo(
  reply: FastifyReply,
  type: MessageType,
  outcome: BatchOutcome,
  opts: PushRoutesOptions,
): FastifyReply {
  const { logger } = opts;
  switch (outcome.kind) {
    case 'stored':
      if (outcome.invalid.length > 0) {
        logger.warn('push items dead-lettered', {
          event: 'push_items_invalid',
          messageType: type,
          invalid: outcome.invalid.length,
          receipts: outcome.receipts,
          firstReason: outcome.invalid[0]?.reason,
        });
      }
      return sendSuccess(reply);
    case 'not_json':
      logger.warn('push rejected: body is not JSON', {
        event: 'push_rejected',
        messageType: type,
        reason: 'not_json',
        detail: outcome.reason,
        sample: sampleOf(bodyText(reply.request), opts.secret),
      });
      return sendFailure(reply, 400, outcome.reason);
    case 'store_failed':
      logger.warn('push not stored; CAMS will retry', {
        event: 'push_store_failed',
        messageType: type,
        receipts: outcome.receipts,
        invalid: outcome.invalid.length,
        error: outcome.error,
      });
      return sendFailure(reply, 503, 'receipts could not be stored; retry later');
  }
}

function reportHook(onPush: (event: PushEvent) => void, tallies: WeakMap<FastifyRequest, BatchOutcome>) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const outcome = tallies.get(request);
    try {
      onPush({
        messageType: typeOf(request) as MessageType,
        status: reply.statusCode,
        receipts: outcome && outcome.kind !== 'not_json' ? outcome.receipts : 0,
        invalid: outcome && outcome.kind !== 'not_json' ? outcome.invalid.length : 0,
        durationMs: reply.elapsedTime,
      });
    } catch {
      // a metrics hook must never break a reply
    }
    done();
  };
}

/** The start of a rejected body for the log: control characters shown as `.`, secrets removed. */
export function sampleOf(text: string, secret: string): string {
  // Redact before cutting, so a secret straddling the cut leaves no prefix behind.
  let sample = text.slice(0, SAMPLE_CHARS + secret.length);
  if (secret !== '') sample = sample.split(secret).join(REDACTED);
  sample = redactText(sample);
  if (sample.length > SAMPLE_CHARS || text.length > SAMPLE_CHARS + secret.length)
    sample = `${sample.slice(0, SAMPLE_CHARS)}…`;
  // eslint-disable-next-line no-control-regex
  return sample.replace(/[\u0000-\u001f\u007f]/g, '.');
}
