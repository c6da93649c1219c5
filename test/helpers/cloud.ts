// Test plumbing for the credential chain. @alicloud/credentials reads process.env itself, and calls
// fixed cloud hosts (https://sts[.<region>].aliyuncs.com, http://100.100.100.200) with no override
// for the metadata host, nor one for the STS host in its default chain. So the tests set process.env
// (each test file runs in its own process) and point those hosts at the emulator, the way a hosts-file
// entry would: the library's own code builds, signs and sends every request, over real HTTP.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

type Request = (url: unknown, opts: unknown) => Promise<unknown>;
/** The HTTP client the credential library sends through (resolved from the library, so the same copy). */
const httpx = createRequire(require.resolve('@alicloud/credentials'))('httpx') as { request: Request };

const CLOUD_HOST = /^https?:\/\/(sts(-vpc)?(\.[a-z0-9-]+)?\.aliyuncs\.com|100\.100\.100\.200)(:\d+)?(?=\/|$)/;

/** Sends the library's STS and instance-metadata requests to `endpoint` instead; returns the undo. */
export function routeCloudHostsTo(endpoint: string): () => void {
  const original = httpx.request;
  httpx.request = (url, opts) =>
    original(typeof url === 'string' ? url.replace(CLOUD_HOST, endpoint) : url, opts);
  return () => {
    httpx.request = original;
  };
}

/**
 * Replaces every ALIBABA_CLOUD_* variable and HOME (a fresh empty directory, so no real profile is
 * read) with `vars`. The instance metadata source stays off unless `vars` turns it on.
 * Returns the new environment; `restore()` puts the old one back.
 */
export function isolateCredentialEnv(vars: Record<string, string | undefined> = {}): {
  env: NodeJS.ProcessEnv;
  home: string;
  restore: () => void;
} {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('ALIBABA_CLOUD_')) delete process.env[name];
  }
  const home = mkdtempSync(join(tmpdir(), 'cams-home-'));
  const wanted: Record<string, string | undefined> = {
    HOME: home,
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    ...vars,
  };
  for (const [name, value] of Object.entries(wanted)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const restore = (): void => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  };
  return { env: process.env, home, restore };
}

/** An unsigned JWT in the shape an ACK RRSA service-account token has (the fake STS reads its claims). */
export function oidcToken(subject: string, expiresInSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { iss: 'https://oidc-ack.example', aud: 'sts.aliyuncs.com', sub: subject, iat: now };
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ ...claims, exp: now + expiresInSeconds })}.c2ln`;
}

interface PopClient {
  request(action: string, params: Record<string, string>, opts: { method: string }): Promise<unknown>;
}
const { RPCClient } = require('@alicloud/pop-core') as {
  RPCClient: new (config: Record<string, string>) => PopClient;
};

export interface StsTriple {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
}

/** AssumeRole at the emulator's fake STS through the official POP client; returns the temporary triple. */
export async function assumeRole(
  endpoint: string,
  accessKeyId: string,
  accessKeySecret: string,
): Promise<StsTriple> {
  const client = new RPCClient({ endpoint, apiVersion: '2015-04-01', accessKeyId, accessKeySecret });
  const reply = (await client.request(
    'AssumeRole',
    { RoleArn: 'acs:ram::1234567890123456:role/cams-receipts', RoleSessionName: 'test' },
    { method: 'POST' },
  )) as { Credentials: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string } };
  const c = reply.Credentials;
  return { accessKeyId: c.AccessKeyId, accessKeySecret: c.AccessKeySecret, securityToken: c.SecurityToken };
}
