import type { IncomingHttpHeaders } from 'node:http';
import { after } from 'node:test';
import { Writable } from 'node:stream';
import type { Handler, HandlerContext } from '../../src/contracts/handler.js';
import {
  createHttpServer,
  type HttpServer,
  type HttpServerConfig,
  type HttpServerOptions,
} from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import type { ReceiptSink } from '../../src/contracts/pipeline.js';
import { MESSAGE_TYPES, type AnyReceipt, type MessageType } from '../../src/receipts/types.js';
import { httpExchange } from '../helpers/http.js';
import { createPipeline } from '../pipeline/harness.js';

export const DEFAULT_PATHS: HttpServerConfig['paths'] = {
  ChatAppInbound: '/inbound',
  ChatAppStatus: '/appstatus',
  ChatAppAudit: '/appaudit',
  SmsReport: '/smsreport',
  SmsUp: '/smsup',
};

export function httpConfig(overrides: Partial<HttpServerConfig> = {}): HttpServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    paths: DEFAULT_PATHS,
    bodyLimitBytes: 1_048_576,
    secret: '',
    allowlist: [],
    trustProxy: false,
    tls: { certPath: '', keyPath: '' },
    ...overrides,
  };
}

export interface Call {
  readonly type: MessageType;
  readonly receipt: AnyReceipt;
  readonly source: string;
  readonly dedupeKey: string;
  readonly parsedMessage: unknown;
}

/** A handler that records what it was given, for every receipt type. */
export function capturingHandler(name = 'capture'): Handler & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    name,
    messageTypes: MESSAGE_TYPES,
    calls,
    handle(receipt: AnyReceipt, ctx: HandlerContext) {
      calls.push({
        type: ctx.messageType,
        receipt,
        source: ctx.source,
        dedupeKey: ctx.dedupeKey,
        parsedMessage: ctx.parsedMessage,
      });
    },
  };
}

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly event?: string;
  readonly [key: string]: unknown;
}

export interface Receiver {
  readonly url: string;
  readonly server: HttpServer;
  readonly pipeline: Pipeline;
  readonly handler: ReturnType<typeof capturingHandler>;
  readonly logs: LogEntry[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  readonly config?: Partial<HttpServerConfig>;
  readonly redisUrl?: string;
  readonly storeTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  readonly onPush?: HttpServerOptions['onPush'];
  /** Mounts more routes on the server before it listens. */
  readonly mount?: (app: HttpServer['app']) => void;
  /** Wraps the pipeline's sink, e.g. to hold a batch in flight. */
  readonly wrapSink?: (sink: ReceiptSink) => ReceiptSink;
}

/** A real pipeline (workers, handler) on Redis behind a real HTTP server on a free port. */
export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const handler = capturingHandler();
  const { pipeline, shutdown } = createPipeline([handler], { url: opts.redisUrl });
  const logs: LogEntry[] = [];
  const server = createHttpServer({
    config: httpConfig(opts.config),
    sink: opts.wrapSink ? opts.wrapSink(pipeline.sink) : pipeline.sink,
    deadLetters: pipeline.deadLetters,
    logger: createLogger({ level: 'debug', format: 'json' }, collector(logs)),
    onPush: opts.onPush,
    storeTimeoutMs: opts.storeTimeoutMs,
    closeTimeoutMs: opts.closeTimeoutMs,
  });
  opts.mount?.(server.app);
  try {
    await pipeline.waitUntilReady();
    const { url } = await server.listen();
    return {
      url,
      server,
      pipeline,
      handler,
      logs,
      async close() {
        await server.close();
        shutdown.abort();
        await pipeline.close();
      },
    };
  } catch (err) {
    await server.close();
    await pipeline.close();
    throw err;
  }
}

function collector(logs: LogEntry[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as LogEntry);
      }
      done();
    },
  });
}

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface SendOptions {
  readonly method?: string;
  /** A string is sent as it is; anything else as JSON. */
  readonly body?: unknown;
  /** `null` sends no Content-Type header. */
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
}

/** One real HTTP(S) request; self-signed certificates are accepted. */
export async function send(url: string, opts: SendOptions = {}): Promise<Response> {
  const target = new URL(url);
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string'
        ? opts.body
        : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...opts.headers };
  const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
  if (body !== undefined && contentType !== null) headers['content-type'] = contentType;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const reply = await httpExchange(target, { method: opts.method ?? 'POST', headers }, body);
  return { status: reply.status, headers: reply.headers, text: reply.body };
}

/** startReceiver for one test file: every receiver it starts is closed after the file's tests. */
export function receiverPool(): (opts?: ReceiverOptions) => Promise<Receiver> {
  const open: Receiver[] = [];
  after(async () => {
    await Promise.all(open.map(r => r.close()));
  });
  return async opts => {
    const r = await startReceiver(opts);
    open.push(r);
    return r;
  };
}

/** POSTs a body to `base` + `path`. */
export function push(
  base: string,
  path: string,
  body: unknown,
  opts: Omit<SendOptions, 'body'> = {},
): Promise<Response> {
  return send(new URL(path, base).toString(), { ...opts, body });
}

export const SUCCESS = { code: 0, msg: 'success' };

export function json(res: Response): unknown {
  return JSON.parse(res.text) as unknown;
}

/** How many handler calls each dedupe key got. */
export function callsPerKey(calls: readonly Call[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of calls)
    counts.set(`${c.type}:${c.dedupeKey}`, (counts.get(`${c.type}:${c.dedupeKey}`) ?? 0) + 1);
  return counts;
}
