import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import Fastify, {
  type FastifyError,
  type FastifyHttpsOptions,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import type { Logger } from '../contracts/logger.js';
import type { HttpConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { DeadLetterSink, ReceiptSink } from '../contracts/pipeline.js';
import { CoalescingSink } from './coalescing-sink.js';
import { pushRoutes } from './push-routes.js';
import type { PushEvent } from '../contracts/telemetry.js';
import { sendError, sendNotFound } from './replies.js';

/** The `http` config slice; `trustProxy` may also be a hop count. */
export type HttpServerConfig = Pick<
  HttpConfig,
  'host' | 'port' | 'paths' | 'bodyLimitBytes' | 'secret' | 'allowlist' | 'tls'
> & {
  /**
   * Take the client address from X-Forwarded-For. `true` trusts one hop: the address the proxy in front
   * appended, so a client cannot pass the allowlist by sending its own header. A number trusts that many.
   */
  readonly trustProxy: boolean | number;
};

export interface HttpServerOptions {
  readonly config: HttpServerConfig;
  readonly sink: ReceiptSink;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  /** Metrics hook, called once per push request after its reply. */
  readonly onPush?: (event: PushEvent) => void;
  /**
   * Reply 503 (CAMS retries) when Redis has not acknowledged a batch within this long; CAMS gives up
   * on a reply after 3 s.
   * @defaultValue 2000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Pushes arriving together are written to Redis in one call of up to this many receipts (group commit);
   * 0 writes each push on its own.
   * @defaultValue 1000
   */
  readonly groupCommitMaxReceipts?: number;
  /**
   * On close, requests still running after this long have their connections cut.
   * @defaultValue storeTimeoutMs + 1000
   */
  readonly closeTimeoutMs?: number;
}

export interface HttpServer {
  /** Mount more routes (health, metrics, dashboard) here before `listen()`. */
  readonly app: FastifyInstance;
  /** Starts listening on `config.host`:`config.port` (0 picks a free port). */
  listen(): Promise<{ url: string }>;
  /**
   * Stops accepting (new requests on open connections get 503), lets requests in flight finish for up to
   * `closeTimeoutMs`, then resolves. Idempotent. The pipeline is drained after this, by its owner.
   */
  close(): Promise<void>;
}

/** A slow upload is cut off after this long; CAMS itself waits only 3 s for the reply. */
const REQUEST_TIMEOUT_MS = 30_000;
const IDLE_SWEEP_MS = 100;

/** The Fastify server carrying the CAMS push receiver; other routes may be mounted on `app`. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { config, logger } = options;
  const storeTimeoutMs = options.storeTimeoutMs ?? 2000;
  const closeTimeoutMs = options.closeTimeoutMs ?? storeTimeoutMs + 1000;
  const app = createFastify(config);
  app.setNotFoundHandler((_request, reply) => sendNotFound(reply));
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (!(typeof err.statusCode === 'number' && err.statusCode < 500)) {
      logger.error('HTTP request failed', {
        event: 'http_error',
        route: request.routeOptions.url,
        error: err.message,
        stack: err.stack,
      });
    }
    return sendError(reply, err);
  });
  registerPush(app, options, storeTimeoutMs);
  let closing: Promise<void> | undefined;
  // Replies finished during shutdown tell keep-alive clients to go away, so the drain does not wait on
  // their idle connections.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  return {
    app,
    listen: () => listenLogged(app, config, logger),
    close() {
      closing ??= closeBounded(app, closeTimeoutMs, logger);
      return closing;
    },
  };
}

function registerPush(app: FastifyInstance, options: HttpServerOptions, storeTimeoutMs: number): void {
  const { config } = options;
  const groupCommit = options.groupCommitMaxReceipts ?? 1000;
  void app.register(pushRoutes, {
    paths: config.paths,
    secret: config.secret,
    allowlist: config.allowlist,
    bodyLimitBytes: config.bodyLimitBytes,
    storeTimeoutMs,
    sink: groupCommit === 0 ? options.sink : new CoalescingSink(options.sink, groupCommit),
    deadLetters: options.deadLetters,
    logger: options.logger,
    onPush: options.onPush,
  });
}

async function listenLogged(
  app: FastifyInstance,
  config: HttpServerConfig,
  logger: Logger,
): Promise<{ url: string }> {
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info('HTTP push receiver listening', {
    event: 'http_listening',
    url,
    paths: config.paths,
    // Which protections are on (the key names avoid the redactor, which would hide the flags).
    guards: [
      isTls(config) && 'tls',
      config.secret !== '' && 'path secret',
      config.allowlist.length > 0 && 'allowlist',
    ].filter(Boolean),
  });
  return { url };
}

function createFastify(config: HttpServerConfig): FastifyInstance {
  const common: FastifyServerOptions = {
    logger: false,
    trustProxy: trustHops(config.trustProxy),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A long path secret must fit in one path parameter.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
  };
  if (!isTls(config)) return Fastify(common);
  // An HTTPS instance differs only in its raw server type, which callers mounting routes never see.
  const https: FastifyHttpsOptions<HttpsServer> = {
    ...(common as FastifyHttpsOptions<HttpsServer>),
    https: loadTls(config.tls),
  };
  return Fastify(https) as unknown as FastifyInstance;
}

/**
 * Trust the first `hops` addresses counted from the socket: the client is the X-Forwarded-For entry the
 * outermost trusted proxy appended. (Fastify's own numeric form trusts nothing, and `true` trusts the
 * left-most entry, which any client can write.)
 */
function trustHops(trustProxy: boolean | number): FastifyServerOptions['trustProxy'] {
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
  return hops > 0 ? (_address: string, hop: number) => hop < hops : false;
}

function isTls(config: HttpServerConfig): boolean {
  return config.tls.certPath !== '' || config.tls.keyPath !== '';
}

function loadTls(tls: HttpServerConfig['tls']): { cert: Buffer; key: Buffer } {
  if (tls.certPath === '' || tls.keyPath === '') {
    throw new ConfigError('set both certPath and keyPath to serve HTTPS, or neither', undefined, 'http.tls');
  }
  return { cert: readPem(tls.certPath, 'http.tls.certPath'), key: readPem(tls.keyPath, 'http.tls.keyPath') };
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, undefined, key, { cause: err });
  }
}

/** Closes the listener, waits for requests in flight (at most `timeoutMs`), then resolves. */
async function closeBounded(app: FastifyInstance, timeoutMs: number, logger: Logger): Promise<void> {
  let cut = false;
  const deadline = setTimeout(() => {
    cut = true;
    app.server.closeAllConnections();
  }, timeoutMs);
  // Node closes idle connections once, when close starts; connections whose request finishes later
  // (a client that ignores Connection: close) are swept here.
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
    clearInterval(sweep);
  }
  logger.info('HTTP push receiver closed', { event: 'http_closed', requestsCut: cut });
}
