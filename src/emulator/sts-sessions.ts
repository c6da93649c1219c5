import { stsTriple } from './tokens.js';

/** How a role session was obtained. */
export type SessionOrigin = 'AssumeRole' | 'AssumeRoleWithOIDC' | 'EcsMetadata';

/** Temporary account credentials for a RAM role: full rights here, like a configured AccessKey. */
export interface RoleSession {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly origin: SessionOrigin;
  readonly createTimeMs: number;
  readonly expireAtMs: number;
  revoked: boolean;
}

export interface StsStats {
  readonly sessionsIssued: Record<SessionOrigin, number>;
  /** `sub` of the latest OIDC tokens exchanged, oldest first (at most 20). */
  readonly oidcSubjects: readonly string[];
}

const KEEP_EXPIRED_MS = 3_600_000;
const MAX_SUBJECTS = 20;

/** The role sessions the fake STS and the fake instance metadata service issue. */
export class RoleSessions {
  private readonly sessions = new Map<string, RoleSession>();
  private readonly issued: Record<SessionOrigin, number> = {
    AssumeRole: 0,
    AssumeRoleWithOIDC: 0,
    EcsMetadata: 0,
  };
  private readonly subjects: string[] = [];
  /** When set, sessions live this long whatever DurationSeconds asked for (to exercise renewal). */
  ttlSeconds?: number;

  issue(
    origin: SessionOrigin,
    roleArn: string,
    sessionName: string,
    durationSeconds: number,
    now = Date.now(),
  ): RoleSession {
    this.prune(now);
    const createTimeMs = Math.floor(now / 1000) * 1000;
    const session: RoleSession = {
      ...stsTriple(),
      roleArn,
      sessionName,
      origin,
      createTimeMs,
      expireAtMs: createTimeMs + (this.ttlSeconds ?? durationSeconds) * 1000,
      revoked: false,
    };
    this.sessions.set(session.accessKeyId, session);
    this.issued[origin] += 1;
    return session;
  }

  noteOidcSubject(subject: string): void {
    this.subjects.push(subject);
    if (this.subjects.length > MAX_SUBJECTS) this.subjects.shift();
  }

  lookup(accessKeyId: string): RoleSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  isExpired(session: RoleSession, now = Date.now()): boolean {
    return session.revoked || now >= session.expireAtMs;
  }

  /** Makes every session issued so far unusable; returns how many were live. */
  expireAll(): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (!this.isExpired(session)) n += 1;
      session.revoked = true;
    }
    return n;
  }

  stats(): StsStats {
    return { sessionsIssued: { ...this.issued }, oidcSubjects: [...this.subjects] };
  }

  private prune(now: number): void {
    for (const [id, session] of this.sessions) {
      if (session.expireAtMs + KEEP_EXPIRED_MS < now) this.sessions.delete(id);
    }
  }
}

/** `2015-04-09T11:52:19Z`: the UTC form STS and the metadata service use for Expiration. */
export function utcSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
