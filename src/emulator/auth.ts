import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { fail } from './mns-errors.js';
import type { RoleSession, RoleSessions } from './sts-sessions.js';
import type { IssuedToken, TokenIssuer } from './tokens.js';

/**
 * Who signed a request: a configured AccessKey or a role session from the fake STS or metadata
 * service (full rights), or a QueryTokenForMnsQueue token (scoped to its queues).
 */
export type Principal =
  | { readonly kind: 'key'; readonly accessKeyId: string }
  | { readonly kind: 'sts'; readonly token: IssuedToken };

export interface AuthContext {
  /** The account every configured key and issued token belongs to. */
  readonly accountId: string;
  /** Configured AccessKey pairs: id → secret. */
  readonly accessKeys: ReadonlyMap<string, string>;
  readonly tokens: TokenIssuer;
  readonly sessions: RoleSessions;
  /** 0 disables the Date skew check. */
  readonly maxClockSkewSeconds: number;
  readonly tokenEarlyExpiryMs: () => number;
}

const AUTH_HEADER = /^MNS ([^:\s]+):(\S+)$/;
/** `<AccountId>.mns.<region>[-internal][-vpc].aliyuncs.com`: the host name says whose queues are meant. */
const ACCOUNT_HOST = /^([^.]+)\.mns\.[^.]+\.aliyuncs\.com(?::\d+)?$/i;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** CanonicalizedMNSHeaders: every x-mns-* header, lower-cased name, sorted, `name:value\n` each. */
function canonicalHeaders(headers: IncomingHttpHeaders): string {
  const names: string[] = [];
  for (const name in headers) if (name.startsWith('x-mns-')) names.push(name);
  names.sort();
  let out = '';
  for (const name of names) out += `${name}:${header(headers, name) ?? ''}\n`;
  return out;
}

/** The account a service-style Host header names; undefined for other hosts (127.0.0.1:9100…). */
function hostAccount(headers: IncomingHttpHeaders): string | undefined {
  return ACCOUNT_HOST.exec(headers.host ?? '')?.[1];
}

/**
 * The MNS V2 signature: base64(HMAC-SHA1(secret, VERB\nMD5\nTYPE\nDATE\nHEADERS RESOURCE)), with the
 * resource exactly as it appeared on the wire (spec §2.2).
 */
export function mnsSignature(
  secret: string,
  method: string,
  headers: IncomingHttpHeaders,
  resource: string,
  date: string,
): string {
  const toSign =
    `${method}\n${header(headers, 'content-md5') ?? ''}\n${header(headers, 'content-type') ?? ''}\n` +
    `${date}\n${canonicalHeaders(headers)}${resource}`;
  return cachedHmac(secret, toSign);
}

/**
 * A consumer loop repeats the same receive request many times within one second (the Date header
 * has one-second resolution), so the same string-to-sign recurs. Remembering recent results skips
 * an HMAC per request; the cache is cleared every second and bounded in size.
 */
const recentSignatures = new Map<string, string>();
let recentSecond = 0;

function cachedHmac(secret: string, toSign: string): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== recentSecond || recentSignatures.size > 4096) {
    recentSignatures.clear();
    recentSecond = second;
  }
  const key = `${secret}\u0000${toSign}`;
  let signature = recentSignatures.get(key);
  if (signature === undefined) {
    signature = createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
    recentSignatures.set(key, signature);
  }
  return signature;
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Verifies an SMQ request and returns its principal, or throws the error the real service gives. */
export function authenticate(
  context: AuthContext,
  method: string,
  headers: IncomingHttpHeaders,
  resource: string,
): Principal {
  const authorization = header(headers, 'authorization');
  if (!authorization) fail('MissingAuthorizationHeader');
  const match = AUTH_HEADER.exec(authorization);
  if (!match) fail('InvalidAuthorizationHeader');
  const date = header(headers, 'date') ?? header(headers, 'x-mns-date');
  if (!date) fail('MissingDateHeader');
  const dateMs = Date.parse(date);
  if (Number.isNaN(dateMs)) fail('InvalidDateHeader');
  if (context.maxClockSkewSeconds > 0 && Math.abs(Date.now() - dateMs) > context.maxClockSkewSeconds * 1000) {
    fail('TimeExpired');
  }
  if (!header(headers, 'x-mns-version')) fail('MissingVersionHeader');

  const accessKeyId = match[1] as string;
  const signature = match[2] as string;
  const sts = accessKeyId.startsWith('STS.');
  const token = sts ? context.tokens.lookup(accessKeyId) : undefined;
  const session = sts && !token ? context.sessions.lookup(accessKeyId) : undefined;
  const secret =
    (token ?? session)?.accessKeySecret ?? (sts ? undefined : context.accessKeys.get(accessKeyId));
  if (secret === undefined) fail('InvalidAccessKeyId');
  // The service checks the key's owner before the signature: a key used on another account's host
  // is AccessDenied even with a wrong secret.
  const account = hostAccount(headers);
  if (account !== undefined && account !== context.accountId) fail('AccessDenied');
  if (!sameSignature(mnsSignature(secret, method, headers, resource, date), signature))
    fail('SignatureDoesNotMatch');
  if (session) {
    checkSecurityToken(headers, session, context.sessions.isExpired(session));
    return { kind: 'key', accessKeyId };
  }
  if (!token) return { kind: 'key', accessKeyId };
  checkSecurityToken(headers, token, context.tokens.isExpired(token, context.tokenEarlyExpiryMs()));
  return { kind: 'sts', token };
}

/** The security-token header is not signed; it must match the triple we issued. */
function checkSecurityToken(
  headers: IncomingHttpHeaders,
  issued: IssuedToken | RoleSession,
  expired: boolean,
): void {
  if (header(headers, 'security-token') !== issued.securityToken) fail('InvalidSecurityToken');
  if (expired) fail('SecurityTokenExpired');
}
