import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { authenticate, type AuthContext } from './auth.js';
import type { Broker } from './broker.js';
import type { EmulatorControl } from './control.js';
import { MnsApi, type MnsCall, type Reply } from './mns-api.js';
import { authorize, routeMns } from './mns-routes.js';
import { METADATA_PREFIX, type EcsMetadata } from './metadata.js';
import { MnsFailure } from './mns-errors.js';
import { parseParams } from './pop-rpc.js';
import { errorXml } from './render.js';
import type { RpcDispatcher } from './rpc-dispatch.js';
import { sleep } from '../util/async.js';

export interface ServerDeps {
  readonly broker: Broker;
  readonly control: EmulatorControl;
  readonly auth: AuthContext;
  readonly rpc: RpcDispatcher;
  readonly metadata: EcsMetadata;
  readonly logger: Logger;
}

/**
 * Bodies above this are refused without parsing. SMQ's own limit is 64 KB of message data; the
 * slack covers XML overhead so the per-message check gives the precise answer.
 */
const MAX_BODY_BYTES = 256 * 1024;
/** Past this, the rest of an oversized body is not even drained: the connection is cut. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
const XML_TYPE = 'text/xml;charset=utf-8';
const JSON_TYPE = 'application/json;charset=utf-8';

class RequestAborted extends Error {}

type Body = { readonly text: string; readonly tooLarge: boolean };

const EMPTY_BODY: Body = { text: '', tooLarge: false };

function readBody(req: IncomingMessage): Promise<Body> | Body {
  const length = req.headers['content-length'];
  if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined)
    return EMPTY_BODY;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        return;
      }
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const tooLarge = size > MAX_BODY_BYTES;
      resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge });
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new RequestAborted());
    });
  });
}

/** Splits the request-target (origin or absolute form) into the signed resource, path and raw query. */
function splitTarget(url: string): { resource: string; path: string; rawQuery: string } {
  let resource = url;
  if (!resource.startsWith('/')) {
    const scheme = resource.indexOf('://');
    const slash = scheme < 0 ? -1 : resource.indexOf('/', scheme + 3);
    resource = slash < 0 ? '/' : resource.slice(slash);
  }
  const q = resource.indexOf('?');
  return q < 0
    ? { resource, path: resource, rawQuery: '' }
    : { resource, path: resource.slice(0, q), rawQuery: resource.slice(q + 1) };
}

/** SMQ query parameters, names lower-cased; values decoded when they are valid percent-encoding. */
function parseMnsQuery(raw: string): Map<string, string> {
  const query = new Map<string, string>();
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    let decoded = value;
    if (value.includes('%')) {
      try {
        decoded = decodeURIComponent(value);
      } catch {
        decoded = value;
      }
    }
    query.set(name, decoded);
  }
  return query;
}

export class EmulatorServer {
  readonly http: Server;
  private readonly mns: MnsApi;
  /** Per-request logging is costly at bench rates; decided once. */
  private readonly debug: boolean;

  constructor(private readonly deps: ServerDeps) {
    this.mns = new MnsApi(deps.broker);
    this.debug = deps.logger.isDebugEnabled();
    this.http = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.crashReply(res, err));
    });
    // Long polls last up to 30 s; the node client keeps sockets for reuse, so idle ones must outlive them.
    this.http.headersTimeout = 66_000;
    this.http.on('clientError', (_err, socket) => {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { resource, path, rawQuery } = splitTarget(req.url ?? '/');
    const hostUrl = `http://${req.headers.host ?? 'localhost'}`;
    if (path === '/_emulator' || path.startsWith('/_emulator/')) {
      const body = await readBody(req);
      const reply = await this.deps.control.handleHttp(
        req.method ?? 'GET',
        path.slice('/_emulator'.length),
        body.text,
      );
      this.send(res, reply.status, JSON.stringify(reply.json), JSON_TYPE, undefined, false);
      return;
    }
    this.deps.broker.requests += 1;
    const body = await readBody(req);
    if (path.startsWith(METADATA_PREFIX)) {
      const reply = this.deps.metadata.handle(req.method ?? 'GET', path, req.headers);
      this.send(res, reply.status, reply.body, reply.contentType, undefined, false);
    } else if (path === '/') await this.handleRpc(req, res, rawQuery, body);
    else await this.handleMns(req, res, resource, path, rawQuery, body, hostUrl);
  }

  private async handleMns(
    req: IncomingMessage,
    res: ServerResponse,
    resource: string,
    path: string,
    rawQuery: string,
    body: Body,
    hostUrl: string,
  ): Promise<void> {
    const requestId = this.deps.broker.ids.requestId();
    const method = req.method ?? 'GET';
    let action = 'Unknown';
    try {
      const query = parseMnsQuery(rawQuery);
      const route = routeMns(method, path, query, body.text);
      action = route.action;
      const faults = this.deps.broker.faults;
      let spentMs = 0;
      if (!faults.idle) {
        spentMs = faults.latencyFor(action);
        if (spentMs > 0) await sleep(spentMs);
        const outcome = faults.outcomeFor(action);
        if (outcome === 'throttle') throw new MnsFailure('TooManyRequests');
        if (outcome === 'server-error') throw new MnsFailure('InternalError');
      }
      const principal = authenticate(this.deps.auth, method, req.headers, resource);
      authorize(principal, route);
      if (body.tooLarge) {
        throw new MnsFailure(
          'InvalidArgument',
          'The request body is too large; a message may hold at most 64 KB.',
        );
      }
      const call: MnsCall = {
        method,
        query,
        headers: req.headers,
        body: body.text,
        hostUrl,
        spentMs,
        onAbort: cancel => {
          res.on('close', () => {
            if (!res.writableFinished) cancel();
          });
        },
      };
      const pending = this.mns.execute(route, call);
      const reply: Reply = pending instanceof Promise ? await pending : pending;
      this.sendMns(res, reply, requestId, action);
    } catch (err) {
      if (!(err instanceof MnsFailure)) {
        this.deps.logger.error('emulator request failed', { action, error: String(err) });
      }
      const failure = err instanceof MnsFailure ? err : new MnsFailure('InternalError');
      this.sendMns(
        res,
        { status: failure.status, body: errorXml(failure.errorCode, failure.message, requestId, hostUrl) },
        requestId,
        action,
      );
    }
  }

  private sendMns(res: ServerResponse, reply: Reply, requestId: string, action: string): void {
    if (this.debug) this.deps.logger.debug('smq request', { action, status: reply.status, requestId });
    if (res.destroyed) return;
    const headers: Record<string, string> = {
      Server: 'AliyunMQS',
      'x-mns-request-id': requestId,
      'x-mns-version': '2015-06-06',
      ...reply.headers,
    };
    this.send(res, reply.status, reply.body, XML_TYPE, headers, this.deps.broker.faults.dropFor(action));
  }

  private async handleRpc(
    req: IncomingMessage,
    res: ServerResponse,
    rawQuery: string,
    body: Body,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const params = parseParams(rawQuery);
    if (method === 'POST' && !body.tooLarge) parseParams(body.text, params);
    const { reply, drop } = await this.deps.rpc.handle(method, params, req.headers.host ?? 'localhost');
    this.send(res, reply.status, JSON.stringify(reply.json), JSON_TYPE, undefined, drop);
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string | Buffer | undefined,
    contentType: string,
    headers: Record<string, string> | undefined,
    drop: boolean,
  ): void {
    if (res.destroyed) return;
    const all: Record<string, string | number> = { ...headers };
    const bytes =
      body === undefined || body.length === 0
        ? undefined
        : typeof body === 'string'
          ? Buffer.from(body, 'utf8')
          : body;
    if (bytes) all['Content-Type'] = contentType;
    all['Content-Length'] = bytes ? bytes.length : 0;
    if (drop) {
      this.dropMidway(res, status, bytes, all);
      return;
    }
    res.writeHead(status, all);
    res.end(bytes);
  }

  /** Sends the headers and half the body, then cuts the connection: a reply dropped mid-flight. */
  private dropMidway(
    res: ServerResponse,
    status: number,
    body: Buffer | undefined,
    headers: Record<string, string | number>,
  ): void {
    const socket = res.socket;
    if (!body) {
      socket?.destroy();
      return;
    }
    res.writeHead(status, headers);
    res.write(body.subarray(0, Math.max(1, body.length >> 1)), () => socket?.destroy());
  }

  private crashReply(res: ServerResponse, err: unknown): void {
    if (err instanceof RequestAborted) {
      res.destroy();
      return;
    }
    this.deps.logger.error('emulator request crashed', { error: String(err) });
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    res.writeHead(500, { 'Content-Type': JSON_TYPE });
    res.end(JSON.stringify({ error: 'internal error' }));
  }
}
