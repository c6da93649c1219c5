import { createHash, randomUUID } from 'node:crypto';
import { popReply, reject, type RpcReply, type RpcVerifier } from './pop-rpc.js';
import { utcSeconds, type RoleSession, type RoleSessions, type SessionOrigin } from './sts-sessions.js';

/**
 * A fake STS (version 2015-04-01): AssumeRole, signed with a configured AccessKey or a role session,
 * and AssumeRoleWithOIDC, unsigned, with an OIDC token (RRSA). Replies in the shape of the real service.
 * Any well-formed role ARN is accepted; an OIDC token must be a JWT whose `exp` has not passed (its
 * signature is not checked: there is no identity provider here). Error codes for malformed input
 * follow the real service where known.
 */
export const STS_ACTIONS: ReadonlySet<string> = new Set(['AssumeRole', 'AssumeRoleWithOIDC']);

const STS_VERSION = '2015-04-01';
const ROLE_ARN = /^acs:ram::(\d+):role\/([\w+=,.@-]{1,64})$/i;
const PROVIDER_ARN = /^acs:ram::\d+:oidc-provider\/[\w.-]{1,128}$/i;
const SESSION_NAME = /^[\w.@-]{2,64}$/;

export class StsApi {
  constructor(
    private readonly sessions: RoleSessions,
    private readonly verifier: RpcVerifier,
  ) {}

  handle(method: string, params: ReadonlyMap<string, string>, hostId: string): RpcReply {
    return popReply(randomUUID().toUpperCase(), hostId, 'Sts', () => {
      if (params.get('Action') === 'AssumeRole') {
        this.verifier.verify(method, params, STS_VERSION);
        return this.assume('AssumeRole', params);
      }
      if (params.get('Version') !== STS_VERSION) {
        reject(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
      }
      const token = oidcClaims(params.get('OIDCToken'));
      if (!PROVIDER_ARN.test(params.get('OIDCProviderArn') ?? '')) {
        reject(400, 'InvalidParameter.OIDCProviderArn', 'The parameter OIDCProviderArn is invalid.');
      }
      const reply = this.assume('AssumeRoleWithOIDC', params);
      this.sessions.noteOidcSubject(token.sub);
      return { ...reply, OIDCTokenInfo: tokenInfo(token) };
    });
  }

  private assume(origin: SessionOrigin, params: ReadonlyMap<string, string>): Record<string, unknown> {
    const roleArn = params.get('RoleArn') ?? '';
    if (!ROLE_ARN.test(roleArn)) reject(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrong.');
    const sessionName = params.get('RoleSessionName') ?? '';
    if (!SESSION_NAME.test(sessionName)) {
      reject(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrong.');
    }
    const duration = Number(params.get('DurationSeconds') ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      reject(400, 'InvalidParameter.DurationSeconds', 'The DurationSeconds is out of range.');
    }
    const session = this.sessions.issue(origin, roleArn, sessionName, duration);
    return { AssumedRoleUser: assumedRoleUser(session), Credentials: credentialsJson(session) };
  }
}

export function credentialsJson(session: RoleSession): Record<string, string> {
  return {
    SecurityToken: session.securityToken,
    AccessKeyId: session.accessKeyId,
    AccessKeySecret: session.accessKeySecret,
    Expiration: utcSeconds(session.expireAtMs),
  };
}

function assumedRoleUser(session: RoleSession): Record<string, string> {
  const roleId = BigInt('0x' + createHash('sha1').update(session.roleArn).digest('hex').slice(0, 13));
  return {
    Arn: `${session.roleArn}/${session.sessionName}`,
    AssumedRoleId: `${roleId}:${session.sessionName}`,
  };
}

interface OidcClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  readonly exp?: number;
  readonly iat?: number;
}

function oidcClaims(token: string | undefined): OidcClaims {
  if (!token) reject(400, 'MissingOIDCToken', 'OIDCToken is mandatory for this action.');
  const parts = token.trim().split('.');
  let claims: Record<string, unknown> = {};
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    claims = {};
  }
  if (parts.length !== 3 || typeof claims['sub'] !== 'string') {
    reject(400, 'InvalidParameter.OIDCToken', 'The OIDC token is malformed.');
  }
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  if (exp !== undefined && exp * 1000 <= Date.now()) {
    reject(400, 'AuthenticationFail.OIDCToken.Expired', 'The OIDC token has expired.');
  }
  const aud = Array.isArray(claims['aud']) ? claims['aud'].join(',') : String(claims['aud'] ?? '');
  const iat = typeof claims['iat'] === 'number' ? claims['iat'] : undefined;
  return { sub: claims['sub'] as string, iss: String(claims['iss'] ?? ''), aud, exp, iat };
}

function tokenInfo(token: OidcClaims): Record<string, string> {
  return {
    Subject: token.sub,
    Issuer: token.iss,
    ClientIds: token.aud,
    ExpirationTime: token.exp === undefined ? '' : utcSeconds(token.exp * 1000),
    IssuanceTime: token.iat === undefined ? '' : utcSeconds(token.iat * 1000),
  };
}
