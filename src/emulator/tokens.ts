import { randomBytes } from 'node:crypto';
import { alnum } from './ids.js';

/** An STS triple minted by QueryTokenForMnsQueue, scoped to the queues of one message type. */
export interface IssuedToken {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
  readonly messageType: string;
  /** Queues this token may read and delete from. */
  readonly queueNames: readonly string[];
  readonly createTimeMs: number;
  /** The advertised ExpireTime, epoch ms. */
  readonly expireAtMs: number;
  /** Set when the control API force-expires tokens. */
  revoked: boolean;
}

/** Expired tokens are remembered this long, so a late request gets "expired" rather than "unknown key". */
const KEEP_EXPIRED_MS = 3_600_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** `yyyy-MM-dd HH:mm:ss` in UTC+8, the format Dybaseapi uses for CreateTime and ExpireTime. */
export function formatShanghaiTime(epochMs: number): string {
  const iso = new Date(epochMs + SHANGHAI_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** A fresh STS triple in the shapes Alibaba Cloud uses: `STS.` + 25 chars, a 44-char secret, a `CAIS…` token. */
export function stsTriple(): { accessKeyId: string; accessKeySecret: string; securityToken: string } {
  return {
    accessKeyId: `STS.${alnum(25)}`,
    accessKeySecret: alnum(44),
    securityToken: `CAIS${randomBytes(180).toString('base64')}`,
  };
}

export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  issuedCount = 0;

  constructor(public ttlSeconds: number) {}

  issue(messageType: string, queueNames: readonly string[], now = Date.now()): IssuedToken {
    this.prune(now);
    // Whole seconds, so the enforced expiry equals the advertised ExpireTime exactly.
    const createTimeMs = Math.floor(now / 1000) * 1000;
    const token: IssuedToken = {
      ...stsTriple(),
      messageType,
      queueNames: [...queueNames],
      createTimeMs,
      expireAtMs: createTimeMs + this.ttlSeconds * 1000,
      revoked: false,
    };
    this.tokens.set(token.accessKeyId, token);
    this.issuedCount += 1;
    return token;
  }

  lookup(accessKeyId: string): IssuedToken | undefined {
    return this.tokens.get(accessKeyId);
  }

  isExpired(token: IssuedToken, earlyMs: number, now = Date.now()): boolean {
    return token.revoked || now >= token.expireAtMs - earlyMs;
  }

  /** Makes every token issued so far unusable at once; new tokens are unaffected. */
  expireAll(): number {
    let n = 0;
    for (const token of this.tokens.values()) {
      if (!token.revoked) n += 1;
      token.revoked = true;
    }
    return n;
  }

  clear(): void {
    this.tokens.clear();
  }

  private prune(now: number): void {
    for (const [id, token] of this.tokens) {
      if (token.expireAtMs + KEEP_EXPIRED_MS < now) this.tokens.delete(id);
    }
  }
}
