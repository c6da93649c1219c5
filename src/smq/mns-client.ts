import { createRequire } from 'node:module';
import type { Agent, IncomingMessage } from 'node:http';
import { SmqError } from '../errors.js';
import { classifyStatus, toSmqError } from './classify.js';
import { readReplyXml, type FlatElement } from './reply-xml.js';
import type { DeleteFailure, QueueAttributes, SmqCredentials, SmqMessage, SmqQueueClient } from './types.js';

/** The part of `@alicloud/mns` 1.2 this adapter uses. Every value in a body comes back as a string. */
interface MnsResponse {
  readonly code: number;
  readonly body?: Record<string, unknown>;
}
interface MnsRequestOptions {
  readonly readTimeout: number;
  readonly connectTimeout: number;
  readonly agent?: Agent;
  readonly beforeRequest?: (options: Record<string, unknown>) => Record<string, unknown>;
}
interface MnsClient {
  /** `http(s)://host[:port]`, as given. */
  readonly endpoint: string;
  /** The signed request headers (Date, x-mns-*, Authorization, security-token). */
  buildHeaders(method: string, body: string, resource: string): Record<string, string>;
  get(resource: string, type: string, opts: MnsRequestOptions): Promise<MnsResponse>;
  put(
    resource: string,
    type: string,
    body: string,
    attentions: string[],
    opts: MnsRequestOptions,
  ): Promise<MnsResponse>;
  delete(
    resource: string,
    type: string,
    body: Buffer,
    attentions: string[],
    opts: MnsRequestOptions,
  ): Promise<MnsResponse>;
}
type MnsClientCtor = new (
  accountId: string,
  opts: { endpoint: string; accessKeyId: string; accessKeySecret: string; securityToken?: string },
) => MnsClient;

/** The HTTP layer `@alicloud/mns` sends with. */
interface Httpx {
  request(url: string, opts: Record<string, unknown>): Promise<IncomingMessage>;
  read(response: IncomingMessage, encoding: 'utf8'): Promise<string>;
}

// The client is CommonJS without typings; load it through require and describe it above. Its HTTP layer
// and XML helper are loaded from where it resolves them, so the receive fast path sends exactly as it does.
const requireHere = createRequire(import.meta.url);
const MNSClient = requireHere('@alicloud/mns') as MnsClientCtor;
const requireFromMns = createRequire(requireHere.resolve('@alicloud/mns'));
const httpx = requireFromMns('httpx') as Httpx;
const mnsHelper = requireFromMns('./lib/helper') as {
  parseXML(text: string): Promise<Record<string, Record<string, unknown>>>;
  extract(value: unknown): unknown;
};

export interface MnsQueueClientOptions {
  /** e.g. `https://1943695596114318.mns.cn-hangzhou.aliyuncs.com` */
  readonly endpoint: string;
  readonly accountId: string;
  readonly credentials: SmqCredentials;
  readonly queueName: string;
  /** Budget for calls other than the long poll, and the slack added on top of a long poll's wait. */
  readonly requestTimeoutMs?: number;
  /** An http(s) Agent; the client's own keep-alive agent is used when omitted. */
  readonly agent?: Agent;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';
const NS = 'http://mns.aliyuncs.com/doc/v1/';

/** The SmqQueueClient over the official `@alicloud/mns` client, one queue, one set of credentials. */
export class MnsQueueClient implements SmqQueueClient {
  readonly #client: MnsClient;
  readonly #queuePath: string;
  readonly #path: string;
  readonly #requestTimeoutMs: number;
  readonly #agent: Agent | undefined;

  constructor(options: MnsQueueClientOptions) {
    const { credentials } = options;
    this.#client = new MNSClient(options.accountId, {
      endpoint: options.endpoint.replace(/\/+$/, ''),
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      securityToken: credentials.securityToken,
    });
    this.#queuePath = `/queues/${encodeURIComponent(options.queueName)}`;
    this.#path = `/queues/${options.queueName}/messages`;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#agent = options.agent;
  }

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<SmqMessage[]> {
    if (signal?.aborted) return [];
    // waitseconds is always sent: the client's own method drops 0, which means "the queue default".
    const url = `${this.#path}?numOfMessages=${max}&waitseconds=${waitSeconds}`;
    try {
      const res = await this.#receiveRequest(url, this.#options(waitSeconds * 1000, signal));
      const items = this.#bodyOrThrow(res, 'receive')['Message'];
      if (!Array.isArray(items)) throw new SmqError('receive: reply without messages', 'server');
      return items.map(toMessage);
    } catch (err) {
      if (signal?.aborted) return [];
      const error = toSmqError(err, 'receive');
      if (error.errorClass === 'empty') return [];
      throw error;
    }
  }

  async deleteBatch(receiptHandles: readonly string[]): Promise<DeleteFailure[]> {
    if (receiptHandles.length === 0) return [];
    const xml =
      `${XML_HEAD}<ReceiptHandles xmlns="${NS}">` +
      receiptHandles.map(h => `<ReceiptHandle>${h}</ReceiptHandle>`).join('') +
      '</ReceiptHandles>';
    try {
      const res = await this.#client.delete(this.#path, 'Errors', Buffer.from(xml), [], this.#options(0));
      // 204: all deleted. A partial failure comes back as <Errors> (HTTP 404) and does not throw.
      if (res.body === undefined) {
        if (res.code >= 400) throw statusError(res.code, 'deleteBatch');
        return [];
      }
      const entries = res.body['Error'];
      return Array.isArray(entries) ? entries.map(toDeleteFailure) : [];
    } catch (err) {
      throw toSmqError(err, 'deleteBatch');
    }
  }

  async changeVisibility(
    receiptHandle: string,
    visibilityTimeoutSeconds: number,
  ): Promise<{ receiptHandle: string; nextVisibleTimeMs: number }> {
    // Same query as the client's changeMessageVisibility, which takes no request options.
    const url = `${this.#path}?receiptHandle=${receiptHandle}&visibilityTimeout=${visibilityTimeoutSeconds}`;
    try {
      const res = await this.#client.put(url, 'ChangeVisibility', '', [], this.#options(0));
      const body = this.#bodyOrThrow(res, 'changeVisibility');
      const handle = body['ReceiptHandle'];
      if (typeof handle !== 'string' || handle === '') {
        throw new SmqError('changeVisibility: reply without a receipt handle', 'server');
      }
      return { receiptHandle: handle, nextVisibleTimeMs: toNumber(body['NextVisibleTime']) };
    } catch (err) {
      throw toSmqError(err, 'changeVisibility');
    }
  }

  /** GetQueueAttributes: how many messages the queue holds, by state. */
  async attributes(): Promise<QueueAttributes> {
    try {
      const res = await this.#client.get(this.#queuePath, 'Queue', this.#options(0));
      const body = this.#bodyOrThrow(res, 'GetQueueAttributes');
      return {
        activeMessages: toNumber(body['ActiveMessages']),
        inactiveMessages: toNumber(body['InactiveMessages']),
        delayMessages: toNumber(body['DelayMessages']),
      };
    } catch (err) {
      throw toSmqError(err, 'GetQueueAttributes');
    }
  }

  /**
   * What `client.get(url, 'Messages', opts)` does (same signed headers, same HTTP layer, same errors),
   * except that the usual replies are read by readReplyXml instead of xml2js: at a few thousand messages
   * a second the general parser was the largest single cost of a receive.
   */
  async #receiveRequest(resource: string, opts: MnsRequestOptions): Promise<MnsResponse> {
    const client = this.#client;
    const url = `${client.endpoint}${resource}`;
    const headers = client.buildHeaders('GET', '', resource);
    const response = await httpx.request(url, { ...opts, method: 'GET', headers, data: '' });
    const code = response.statusCode ?? 0;
    const contentType = response.headers['content-type'] ?? '';
    const text = await httpx.read(response, 'utf8');
    if (!text || !(contentType.startsWith('text/xml') || contentType.startsWith('application/xml'))) {
      return { code, body: undefined };
    }
    const reply = readReplyXml(text);
    if (reply?.root === 'Messages') return { code, body: { Message: reply.messages } };
    if (reply?.root === 'Error' && hasErrorFields(reply.error)) throw mnsError('GET', url, code, reply.error);
    return { code, body: await parseGenerally(text, 'GET', url, code) };
  }

  #options(waitMs: number, signal?: AbortSignal): MnsRequestOptions {
    // httpx uses connectTimeout as the socket idle timeout, so both must outlast the long poll.
    const timeoutMs = waitMs + this.#requestTimeoutMs;
    return {
      readTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      ...(this.#agent ? { agent: this.#agent } : {}),
      // httpx hands its Node request options to beforeRequest; `signal` makes the long poll abortable.
      ...(signal ? { beforeRequest: (o: Record<string, unknown>) => ({ ...o, signal }) } : {}),
    };
  }

  /** The client ignores the status and returns no body for non-XML replies (a proxy's 502, say). */
  #bodyOrThrow(res: MnsResponse, operation: string): Record<string, unknown> {
    if (res.code >= 400) throw statusError(res.code, operation);
    if (!res.body) throw new SmqError(`${operation}: empty reply (HTTP ${res.code})`, 'server');
    return res.body;
  }
}

function hasErrorFields(e: FlatElement): boolean {
  return ['Code', 'Message', 'RequestId', 'HostId'].every(k => typeof e[k] === 'string');
}

/** The error `@alicloud/mns` throws for an `<Error>` reply: named MNS<Code>Error, status in the message. */
function mnsError(method: string, url: string, status: number, e: FlatElement): Error {
  const err = new Error(
    `${method} ${url} failed with ${status}. requestid: ${e['RequestId']}, hostid: ${e['HostId']}, message: ${e['Message']}`,
  );
  err.name = `MNS${e['Code']}${err.name}`;
  return err;
}

/** The client's own reading of a `<Messages>` reply, for replies the fast reader does not take. */
async function parseGenerally(
  text: string,
  method: string,
  url: string,
  status: number,
): Promise<Record<string, unknown>> {
  const data = await mnsHelper.parseXML(text);
  const error = data['Error'];
  if (error) {
    const field = (k: string): string => String(mnsHelper.extract(error[k]));
    throw mnsError(method, url, status, {
      Code: field('Code'),
      Message: field('Message'),
      RequestId: field('RequestId'),
      HostId: field('HostId'),
    });
  }
  const root = data['Messages'] as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  // Throws like the client does when the root is not <Messages>: an unexpected reply.
  for (const key of Object.keys(root)) if (key !== '$') body[key] = mnsHelper.extract(root[key]);
  return body;
}

function statusError(status: number, operation: string): SmqError {
  return new SmqError(`${operation}: HTTP ${status} without an SMQ error body`, classifyStatus(status));
}

function toNumber(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function toMessage(raw: unknown): SmqMessage {
  const m = (raw ?? {}) as Record<string, unknown>;
  return {
    messageId: text(m['MessageId']),
    receiptHandle: text(m['ReceiptHandle']),
    body: text(m['MessageBody']),
    bodyMd5: text(m['MessageBodyMD5']),
    enqueueTimeMs: toNumber(m['EnqueueTime']),
    firstDequeueTimeMs: toNumber(m['FirstDequeueTime']),
    nextVisibleTimeMs: toNumber(m['NextVisibleTime']),
    dequeueCount: toNumber(m['DequeueCount']),
    priority: toNumber(m['Priority']),
  };
}

function toDeleteFailure(raw: unknown): DeleteFailure {
  const e = (raw ?? {}) as Record<string, unknown>;
  return {
    receiptHandle: text(e['ReceiptHandle']),
    errorCode: text(e['ErrorCode']),
    errorMessage: text(e['ErrorMessage']),
  };
}
