import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Broker } from './broker.js';
import { formatShanghaiTime } from './tokens.js';

/**
 * The Dybaseapi RPC `QueryTokenForMnsQueue` (version 2017-05-25), as `@alicloud/pop-core` calls it:
 * GET with the parameters in the query, or POST with a form body (spec §10). Answers are POP JSON.
 */
export interface RpcReply {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

export interface RpcContext {
  readonly broker: Broker;
  readonly accessKeys: ReadonlyMap<string, string>;
  /** 0 disables the Timestamp skew check. */
  readonly maxClockSkewSeconds: number;
}

const API_VERSION = '2017-05-25';
const NONCE_WINDOW_MS = 15 * 60_000;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;

class RpcFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function reject(status: number, code: string, message: string): never {
  throw new RpcFailure(status, code, message);
}

/** pop-core's percent-encoding: encodeURIComponent plus ! ' ( ) *. */
export function popEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

/** Parameters from a raw query string or form body, decoded. */
export function parseParams(raw: string, into = new Map<string, string>()): Map<string, string> {
  if (raw === '') return into;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodePart(eq < 0 ? pair : pair.slice(0, eq));
    into.set(key, eq < 0 ? '' : decodePart(pair.slice(eq + 1)));
  }
  return into;
}

export function rpcSignature(secret: string, method: string, params: ReadonlyMap<string, string>): string {
  const canonical = [...params.entries()]
    .filter(([key]) => key !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${popEncode(key)}=${popEncode(value)}`)
    .join('&');
  const toSign = `${method}&${popEncode('/')}&${popEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(toSign, 'utf8').digest('base64');
}

export class TokenApi {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly context: RpcContext) {}

  handle(method: string, params: ReadonlyMap<string, string>, hostId: string): RpcReply {
    const requestId = randomUUID().toUpperCase();
    try {
      return {
        status: 200,
        json: { RequestId: requestId, Code: 'OK', Message: 'OK', ...this.query(method, params) },
      };
    } catch (err) {
      if (!(err instanceof RpcFailure)) throw err;
      return { status: err.status, json: errorJson(requestId, hostId, err.code, err.message) };
    }
  }

  private query(method: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
    const action = params.get('Action');
    if (!action) reject(400, 'MissingAction', 'Action is mandatory for this action.');
    if (action !== 'QueryTokenForMnsQueue') {
      reject(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    }
    this.verify(method, params);
    const messageType = params.get('MessageType');
    if (!messageType) reject(400, 'MissingMessageType', 'MessageType is mandatory for this action.');
    const broker = this.context.broker;
    const declared = broker.queuesForType(messageType);
    const queueName = params.get('QueueName');
    if (queueName !== undefined && queueName !== '' && !declared.includes(queueName)) {
      reject(
        400,
        'InvalidParameter.QueueName',
        `The queue ${queueName} is not declared for MessageType ${messageType}.`,
      );
    }
    if (declared.length === 0) {
      reject(400, 'InvalidParameter.MessageType', `No queue is declared for MessageType ${messageType}.`);
    }
    const token = broker.tokens.issue(messageType, queueName ? [queueName] : declared);
    return {
      MessageTokenDTO: {
        AccessKeyId: token.accessKeyId,
        AccessKeySecret: token.accessKeySecret,
        SecurityToken: token.securityToken,
        CreateTime: formatShanghaiTime(token.createTimeMs),
        ExpireTime: formatShanghaiTime(token.expireAtMs),
      },
    };
  }

  /** The POP RPC signature with a configured AccessKey, plus Timestamp, nonce and Version checks. */
  private verify(method: string, params: ReadonlyMap<string, string>): void {
    for (const name of [
      'AccessKeyId',
      'Signature',
      'SignatureMethod',
      'SignatureNonce',
      'Timestamp',
      'Version',
    ]) {
      if (!params.get(name)) reject(400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    if (params.get('Version') !== API_VERSION) {
      reject(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    }
    if (params.get('SignatureMethod') !== 'HMAC-SHA1') {
      reject(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
    }
    const secret = this.context.accessKeys.get(params.get('AccessKeyId') as string);
    if (secret === undefined)
      reject(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    const stamp = TIMESTAMP.exec(params.get('Timestamp') as string);
    if (!stamp)
      reject(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    const stampMs = Date.parse(params.get('Timestamp') as string);
    const skew = this.context.maxClockSkewSeconds;
    if (Number.isNaN(stampMs) || (skew > 0 && Math.abs(Date.now() - stampMs) > skew * 1000)) {
      reject(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
    const expected = Buffer.from(rpcSignature(secret, method, params));
    const given = Buffer.from(params.get('Signature') as string);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      reject(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    }
    this.useNonce(params.get('SignatureNonce') as string);
  }

  private useNonce(nonce: string): void {
    const now = Date.now();
    if ((this.nonces.get(nonce) ?? 0) > now) {
      reject(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    if (this.nonces.size > 10_000) {
      for (const [key, until] of this.nonces) if (until <= now) this.nonces.delete(key);
    }
    this.nonces.set(nonce, now + NONCE_WINDOW_MS);
  }
}

export function errorJson(
  requestId: string,
  hostId: string,
  code: string,
  message: string,
): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Dybaseapi`,
  };
}
