import { createRequire } from 'node:module';
import type { AccountCredential, AccountCredentials } from '../credentials/account.js';
import { TokenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import { classifyCode } from './classify.js';
import { SafeEmitter } from './safe-emitter.js';
import type { SmqCredentials } from './types.js';
import type { TokenEvents, TokenStatus } from '../contracts/telemetry.js';

/** Current credentials for one queue, plus a way to report that they were rejected. */
export interface CredentialSource {
  credentials(): Promise<SmqCredentials>;
  /** The server rejected `failed`; refresh before the next call. Returns false when the request was ignored. */
  invalidate(failed: SmqCredentials): boolean;
}

/**
 * `auth: 'static'`: sign SMQ directly with the account credential. An STS credential (a role, the
 * instance role, an STS triple) carries its security token along; a rejection re-resolves the source.
 */
export function accountSource(account: AccountCredentials): CredentialSource {
  return {
    credentials: () => account.get(),
    invalidate: () => account.invalidate(),
  };
}

interface DybaseapiClient {
  queryTokenForMnsQueue(
    params: { MessageType: string; QueueName?: string },
    opts: { timeout: number },
  ): Promise<Record<string, unknown>>;
}
type DybaseapiCtor = new (config: {
  endpoint: string;
  /** pop-core asks it before every request and adds SecurityToken when the credential has one. */
  credentialsProvider: { getCredentials(): Promise<AccountCredential> };
}) => DybaseapiClient;
const Dybaseapi = createRequire(import.meta.url)('@alicloud/dybaseapi') as DybaseapiCtor;

export interface TokenProviderOptions {
  /** Dybaseapi endpoint, e.g. `https://dybaseapi.aliyuncs.com`. */
  readonly endpoint: string;
  /** Signs every QueryTokenForMnsQueue call with the account's current credential. */
  readonly account: AccountCredentials;
  /** Refresh this long before ExpireTime (the official SDKs use 120 s). */
  readonly refreshMarginMs?: number;
  /** At most one refresh forced by an auth error per key in this window. */
  readonly minForcedRefreshIntervalMs?: number;
  /** After a failed refresh while the old token is still valid, wait this long before trying again. */
  readonly failedRefreshRetryMs?: number;
  readonly requestTimeoutMs?: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface Entry {
  readonly messageType: string;
  readonly queueName: string;
  credentials?: SmqCredentials;
  expireAtMs: number;
  /** The refresh point, computed once per token. */
  refreshAtMs: number;
  inflight?: Promise<SmqCredentials>;
  lastForcedAtMs: number;
  retryAfterMs: number;
  lastErrorClass?: string;
}

/** A token whose ExpireTime cannot be read is assumed to live this long (the Node SMS SDK's assumption). */
const FALLBACK_TTL_MS = 10 * 60_000;

/**
 * Temporary SMQ credentials from QueryTokenForMnsQueue, cached per (MessageType, QueueName) and refreshed
 * before ExpireTime. Concurrent callers share one in-flight request per key, so a burst of loops makes one
 * token call.
 */
export class TokenProvider extends SafeEmitter<TokenEvents> {
  readonly #client: DybaseapiClient;
  readonly #account: AccountCredentials;
  readonly #entries = new Map<string, Entry>();
  readonly #marginMs: number;
  readonly #minForcedMs: number;
  readonly #failedRetryMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: TokenProviderOptions) {
    super(options.logger);
    this.#account = options.account;
    this.#client = new Dybaseapi({
      endpoint: options.endpoint.replace(/\/+$/, ''),
      credentialsProvider: { getCredentials: () => this.#account.get() },
    });
    this.#marginMs = options.refreshMarginMs ?? 120_000;
    this.#minForcedMs = options.minForcedRefreshIntervalMs ?? 5_000;
    this.#failedRetryMs = options.failedRefreshRetryMs ?? 5_000;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** A CredentialSource bound to one queue. */
  forQueue(messageType: string, queueName: string): CredentialSource {
    return {
      credentials: () => this.get(messageType, queueName),
      invalidate: failed => this.invalidate(messageType, queueName, failed),
    };
  }

  /** Valid credentials for the queue, fetching or refreshing them when needed. */
  get(messageType: string, queueName: string): Promise<SmqCredentials> {
    const entry = this.#entry(messageType, queueName);
    const now = this.#now();
    if (entry.credentials && now < entry.refreshAtMs) return Promise.resolve(entry.credentials);
    if (entry.inflight) return entry.inflight;
    // A refresh failed a moment ago but the old token still works: keep using it instead of retrying at once.
    if (entry.credentials && now < entry.expireAtMs && now < entry.retryAfterMs) {
      return Promise.resolve(entry.credentials);
    }
    entry.inflight = this.#refresh(entry).finally(() => {
      entry.inflight = undefined;
    });
    return entry.inflight;
  }

  /**
   * The server rejected `failed`. Forces a refresh on the next get, unless the token was already replaced
   * or a forced refresh happened within `minForcedRefreshIntervalMs` (so auth errors cannot hammer the API).
   */
  invalidate(messageType: string, queueName: string, failed?: SmqCredentials): boolean {
    const entry = this.#entries.get(key(messageType, queueName));
    if (!entry?.credentials) return false;
    if (failed && failed.securityToken !== entry.credentials.securityToken) return false;
    const now = this.#now();
    if (now - entry.lastForcedAtMs < this.#minForcedMs) return false;
    entry.lastForcedAtMs = now;
    entry.refreshAtMs = 0;
    entry.retryAfterMs = 0;
    return true;
  }

  /** Drops a queue's token (its consumer was removed): readiness and metrics stop reporting it. */
  forget(messageType: string, queueName: string): void {
    if (!this.#entries.delete(key(messageType, queueName))) return;
    this.emitSafely('token_forgotten', { messageType, queueName });
  }

  /** Per queue: when its token expires and whether the last refresh failed (for readiness). */
  status(): TokenStatus[] {
    return [...this.#entries.values()].map(e => ({
      messageType: e.messageType,
      queueName: e.queueName,
      expireAtMs: e.credentials ? e.expireAtMs : undefined,
      lastErrorClass: e.lastErrorClass,
    }));
  }

  #entry(messageType: string, queueName: string): Entry {
    const k = key(messageType, queueName);
    let entry = this.#entries.get(k);
    if (!entry) {
      entry = {
        messageType,
        queueName,
        expireAtMs: 0,
        refreshAtMs: 0,
        lastForcedAtMs: -Infinity,
        retryAfterMs: 0,
      };
      this.#entries.set(k, entry);
    }
    return entry;
  }

  async #refresh(entry: Entry): Promise<SmqCredentials> {
    const fetchedAtMs = this.#now();
    try {
      const credentials = await this.#fetch(entry.messageType, entry.queueName);
      this.#refreshed(entry, credentials, fetchedAtMs);
      return credentials;
    } catch (err) {
      return this.#refreshFailed(entry, toTokenError(err));
    }
  }

  #refreshed(entry: Entry, credentials: SmqCredentials, fetchedAtMs: number): void {
    const { messageType, queueName } = entry;
    const expireAtMs = credentials.expireAtMs ?? fetchedAtMs + FALLBACK_TTL_MS;
    // A short-lived token (shorter than twice the margin) is refreshed at half its life instead.
    const marginMs = Math.min(this.#marginMs, (expireAtMs - fetchedAtMs) / 2);
    Object.assign(entry, { credentials, expireAtMs, refreshAtMs: expireAtMs - marginMs });
    entry.lastErrorClass = undefined;
    this.logger.info('token refreshed', {
      event: 'token_refreshed',
      messageType,
      queueName,
      expireAt: new Date(expireAtMs).toISOString(),
    });
    // A queue forgotten while its refresh was in flight stays forgotten: no metrics for a removed queue.
    if (this.#entries.get(key(messageType, queueName)) === entry) {
      this.emitSafely('token_refreshed', { messageType, queueName, expireAtMs });
    }
  }

  /** A refresh failed: the previous token while it is still valid, otherwise the error. */
  #refreshFailed(entry: Entry, error: TokenError): SmqCredentials {
    const { messageType, queueName } = entry;
    // The account credential itself was refused (a rotated key, a revoked role session).
    if (error.errorClass === 'auth') this.#account.invalidate();
    entry.lastErrorClass = error.errorClass;
    entry.retryAfterMs = this.#now() + this.#failedRetryMs;
    const stillValid = entry.credentials !== undefined && this.#now() < entry.expireAtMs;
    this.logger.warn('token refresh failed', {
      event: 'token_failed',
      messageType,
      queueName,
      errorClass: error.errorClass,
      error: error.message,
      usingPreviousToken: stillValid,
    });
    this.emitSafely('token_failed', { messageType, queueName, errorClass: error.errorClass });
    if (stillValid && entry.credentials) return entry.credentials;
    throw error;
  }

  async #fetch(messageType: string, queueName: string): Promise<SmqCredentials> {
    const res = await this.#client.queryTokenForMnsQueue(
      { MessageType: messageType, QueueName: queueName },
      { timeout: this.#timeoutMs },
    );
    const dto = (res['MessageTokenDTO'] ?? {}) as Record<string, unknown>;
    const { AccessKeyId, AccessKeySecret, SecurityToken, ExpireTime } = dto;
    if (typeof AccessKeyId !== 'string' || typeof AccessKeySecret !== 'string') {
      throw new TokenError('QueryTokenForMnsQueue: reply without MessageTokenDTO credentials', 'server');
    }
    let expireAtMs: number | undefined;
    try {
      expireAtMs = parseExpireTime(String(ExpireTime));
    } catch {
      this.logger.warn('token ExpireTime unreadable; assuming 10 minutes', {
        event: 'token_expire_unreadable',
        messageType,
        queueName,
        expireTime: String(ExpireTime),
      });
    }
    return Object.freeze({
      accessKeyId: AccessKeyId,
      accessKeySecret: AccessKeySecret,
      securityToken: typeof SecurityToken === 'string' ? SecurityToken : undefined,
      expireAtMs,
    });
  }
}

function key(messageType: string, queueName: string): string {
  return `${messageType}\u0000${queueName}`;
}

/** ExpireTime is Beijing wall-clock time (`yyyy-MM-dd HH:mm:ss`, UTC+8, no DST); returns epoch ms. */
export function parseExpireTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new RangeError(`Expected ExpireTime as yyyy-MM-dd HH:mm:ss, got ${JSON.stringify(text)}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h - 8, mi, s);
}

/**
 * pop-core errors carry the signed request URL (AccessKeyId, Signature) in their message; build a new
 * message from the code and scrubbed text, and keep the original out of the chain so nothing leaks into logs.
 */
export function toTokenError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  // json-bigint throws a plain object (not an Error) on a non-JSON reply, so read fields defensively.
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    data?: { Message?: unknown };
  };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (e.data && typeof e.code === 'string') {
    const message = typeof e.data.Message === 'string' ? e.data.Message : '';
    return new TokenError(`QueryTokenForMnsQueue: ${e.code}: ${message}`, classifyCode(e.code));
  }
  if (name === 'SyntaxError') return new TokenError('QueryTokenForMnsQueue: reply is not JSON', 'server');
  const raw = typeof e.message === 'string' ? e.message : String(err);
  const text = redactText(raw.replace(/https?:\/\/\S+/g, '<token endpoint>'));
  const network = typeof e.code === 'string' || /Timeout|socket hang up|ECONN/i.test(`${name} ${raw}`);
  return new TokenError(`QueryTokenForMnsQueue: ${name}: ${text}`, network ? 'network' : 'server');
}
