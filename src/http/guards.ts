import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ConfigError } from '../errors.js';
import { sendFailure, sendNotFound } from './replies.js';

/**
 * True when `candidate` equals `secret`. Both sides are hashed first, so the comparison takes the
 * same time whatever the length or content of the guess.
 */
export function secretMatcher(secret: string): (candidate: unknown) => boolean {
  const expected = digest(secret);
  return candidate => typeof candidate === 'string' && timingSafeEqual(digest(candidate), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * True when `address` is in one of the allowlisted IPs or CIDRs. An address that is not an IP
 * (a garbled X-Forwarded-For) is never allowed. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is read as IPv4.
 */
export function addressAllowlist(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) addEntry(list, entry);
  return address => {
    const ip = unmapIpv4(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', bits, extra] = entry.split('/');
  const ip = unmapIpv4(address);
  const family = isIP(ip);
  const prefix = bits === undefined ? undefined : Number(bits);
  const maxPrefix = family === 4 ? 32 : 128;
  const badPrefix = prefix !== undefined && (!/^\d{1,3}$/.test(bits ?? '') || prefix > maxPrefix);
  if (family === 0 || extra !== undefined || badPrefix) {
    throw new ConfigError(`"${entry}" is not an IP address or CIDR`, undefined, 'http.allowlist');
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(ip, type);
  else list.addSubnet(ip, prefix, type);
}

function unmapIpv4(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match?.[1] ?? address;
}

export interface GuardOptions {
  /** `''` for none. Otherwise the request must carry it as the `:secret` path segment or `?token=`. */
  readonly secret: string;
  /** Empty allows every address. */
  readonly allowlist: readonly string[];
  /** Told about each refusal, for the log. */
  readonly onRefused?: (request: FastifyRequest, why: 'address' | 'secret') => void;
}

/**
 * onRequest hooks for the push routes, run before the body is read. The address check comes first:
 * a refused address learns nothing about the secret. A wrong or missing secret gets the same 404 as
 * an unknown path, so the endpoint's existence is not revealed.
 */
export function guardHooks(opts: GuardOptions): onRequestHookHandler[] {
  const hooks: onRequestHookHandler[] = [];
  if (opts.allowlist.length > 0) {
    const allowed = addressAllowlist(opts.allowlist);
    hooks.push((request, reply, done) => {
      if (allowed(request.ip)) return done();
      opts.onRefused?.(request, 'address');
      sendFailure(reply, 403, 'forbidden');
    });
  }
  if (opts.secret !== '') {
    const matches = secretMatcher(opts.secret);
    hooks.push((request, reply, done) => {
      if (matches(presentedSecret(request))) return done();
      opts.onRefused?.(request, 'secret');
      sendNotFound(reply);
    });
  }
  return hooks;
}

function presentedSecret(request: FastifyRequest): unknown {
  const params = request.params as Record<string, unknown> | undefined;
  const query = request.query as Record<string, unknown> | undefined;
  return params?.['secret'] ?? query?.['token'];
}

/** Refuses with 405 before the body is read; for the other methods on a push path. */
export function methodNotAllowed(allow: string): onRequestHookHandler {
  // Replying without calling `done` ends the request here.
  return (_request: FastifyRequest, reply: FastifyReply, _done: () => void) => {
    reply.header('Allow', allow);
    sendFailure(reply, 405, `method not allowed; use ${allow}`);
  };
}
