import type { IncomingHttpHeaders } from 'node:http';
import { alnum } from './ids.js';
import { DEMO_UID } from './options.js';
import { utcSeconds, type RoleSession, type RoleSessions } from './sts-sessions.js';

/**
 * A fake ECS instance metadata service, for the instance RAM role: `PUT /latest/api/token` (IMDSv2),
 * `GET /latest/meta-data/ram/security-credentials/` (the role name) and `…/<role>` (its credentials).
 * Like the real one it hands out the same session until it nears expiry, then a new one.
 */
export interface MetadataReply {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

export const METADATA_PREFIX = '/latest/';
const CREDENTIALS_PATH = '/latest/meta-data/ram/security-credentials/';
const TOKEN_HEADER = 'x-aliyun-ecs-metadata-token';
const TOKEN_TTL_HEADER = 'x-aliyun-ecs-metadata-token-ttl-seconds';
const SESSION_SECONDS = 21_600;
const TEXT = 'text/plain';

function text(status: number, body: string): MetadataReply {
  return { status, body, contentType: TEXT };
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class EcsMetadata {
  private readonly tokens = new Map<string, number>();
  private current?: RoleSession;

  constructor(
    private readonly sessions: RoleSessions,
    readonly roleName: string,
  ) {}

  handle(method: string, path: string, headers: IncomingHttpHeaders): MetadataReply {
    if (method === 'PUT' && path === '/latest/api/token') return this.issueToken(headers);
    if (method !== 'GET') return text(405, 'Method Not Allowed');
    const token = single(headers, TOKEN_HEADER);
    if (token !== undefined && !((this.tokens.get(token) ?? 0) > Date.now()))
      return text(401, 'Unauthorized');
    if (path === CREDENTIALS_PATH) return text(200, this.roleName);
    if (path === CREDENTIALS_PATH + this.roleName) {
      return { status: 200, body: JSON.stringify(this.credentials()), contentType: 'application/json' };
    }
    return text(404, 'Not Found');
  }

  private issueToken(headers: IncomingHttpHeaders): MetadataReply {
    const ttl = Number(single(headers, TOKEN_TTL_HEADER));
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return text(400, 'Bad Request');
    const now = Date.now();
    for (const [key, until] of this.tokens) if (until <= now) this.tokens.delete(key);
    const token = alnum(56);
    this.tokens.set(token, now + ttl * 1000);
    return text(200, token);
  }

  private credentials(): Record<string, string> {
    const now = Date.now();
    const session = this.current;
    const lifeMs = session ? session.expireAtMs - session.createTimeMs : 0;
    if (!session || this.sessions.isExpired(session) || session.expireAtMs - now < lifeMs / 2) {
      const roleArn = `acs:ram::${DEMO_UID}:role/${this.roleName}`;
      this.current = this.sessions.issue('EcsMetadata', roleArn, 'ecs-instance', SESSION_SECONDS, now);
    }
    const s = this.current as RoleSession;
    return {
      AccessKeyId: s.accessKeyId,
      AccessKeySecret: s.accessKeySecret,
      Expiration: utcSeconds(s.expireAtMs),
      SecurityToken: s.securityToken,
      LastUpdated: utcSeconds(s.createTimeMs),
      Code: 'Success',
    };
  }
}
