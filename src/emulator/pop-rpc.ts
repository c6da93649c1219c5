import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RoleSessions } from './sts-sessions.js';

/**
 * POP RPC plumbing shared by the Dybaseapi token API and the fake STS: parameter parsing, the
 * HMAC-SHA1 signature as `@alicloud/pop-core` and `@alicloud/credentials` compute it, and POP errors.
 */
export interface RpcReply {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

export class RpcFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function reject(status: number, code: string, message: string): never {
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

export function errorJson(
  requestId: string,
  hostId: string,
  code: string,
  message: string,
  product = 'Dybaseapi',
): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=${product}`,
  };
}

/** Who may sign: configured AccessKey pairs, and the role sessions the fake STS issued. */
export interface RpcSigners {
  readonly accessKeys: ReadonlyMap<string, string>;
  readonly sessions: RoleSessions;
  /** 0 disables the Timestamp skew check. */
  readonly maxClockSkewSeconds: number;
}

const NONCE_WINDOW_MS = 15 * 60_000;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const SIGNED = ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'Timestamp', 'Version'];

export class RpcVerifier {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly signers: RpcSigners) {}

  /** Checks the signature, Version, Timestamp and nonce; returns the signer's AccessKeyId. */
  verify(method: string, params: ReadonlyMap<string, string>, version: string): string {
    for (const name of SIGNED) {
      if (!params.get(name)) reject(400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    if (params.get('Version') !== version) {
      reject(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    }
    if (params.get('SignatureMethod') !== 'HMAC-SHA1') {
      reject(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
    }
    const accessKeyId = params.get('AccessKeyId') as string;
    const secret = this.secretOf(accessKeyId);
    this.checkTimestamp(params.get('Timestamp') as string);
    const expected = Buffer.from(rpcSignature(secret, method, params));
    const given = Buffer.from(params.get('Signature') as string);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      reject(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    }
    if (accessKeyId.startsWith('STS.')) this.checkSecurityToken(accessKeyId, params.get('SecurityToken'));
    this.useNonce(params.get('SignatureNonce') as string);
    return accessKeyId;
  }

  private secretOf(accessKeyId: string): string {
    const secret = accessKeyId.startsWith('STS.')
      ? this.signers.sessions.lookup(accessKeyId)?.accessKeySecret
      : this.signers.accessKeys.get(accessKeyId);
    if (secret === undefined)
      reject(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    return secret;
  }

  /** A role session signs only together with its SecurityToken (which is among the signed parameters). */
  private checkSecurityToken(accessKeyId: string, token: string | undefined): void {
    const session = this.signers.sessions.lookup(accessKeyId);
    if (!session) return;
    if (!token) reject(400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.');
    if (token !== session.securityToken) {
      reject(
        400,
        'InvalidSecurityToken.MismatchWithAccessKey',
        'Specified SecurityToken mismatch with the AccessKey.',
      );
    }
    if (this.signers.sessions.isExpired(session)) {
      reject(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
    }
  }

  private checkTimestamp(value: string): void {
    if (!TIMESTAMP.test(value))
      reject(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    const stampMs = Date.parse(value);
    const skew = this.signers.maxClockSkewSeconds;
    if (Number.isNaN(stampMs) || (skew > 0 && Math.abs(Date.now() - stampMs) > skew * 1000)) {
      reject(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
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

/** Runs an API body and wraps its result or RpcFailure in a POP reply with a RequestId. */
export function popReply(
  requestId: string,
  hostId: string,
  product: string,
  body: () => Record<string, unknown>,
): RpcReply {
  try {
    return { status: 200, json: { RequestId: requestId, ...body() } };
  } catch (err) {
    if (!(err instanceof RpcFailure)) throw err;
    return { status: err.status, json: errorJson(requestId, hostId, err.code, err.message, product) };
  }
}
