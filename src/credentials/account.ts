// The one module that uses @alicloud/credentials. The library reads its environment variables
// (ALIBABA_CLOUD_*, HOME) from process.env itself and offers no way to pass another environment, so
// the `env` given here must be the process environment (src/main.ts passes it down); it is used to
// find the profile files the chain reads, so their rewrites can be noticed.
import credentials from '@alicloud/credentials';
import type { CredentialsConfig } from '../config/types.js';
import { TokenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import { WatchedFiles, profileFiles } from './watched-files.js';
import { errorMessage } from '../util/error-message.js';

const { default: Credential, Config } = credentials;
type LibraryCredential = InstanceType<typeof Credential>;

/** An account credential: an AccessKey pair, or an STS triple when `securityToken` is set. */
export interface AccountCredential {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** The account's current credential, for signing QueryTokenForMnsQueue (and SMQ with `auth: static`). */
export interface AccountCredentials {
  /**
   * The credential to sign the next request with. Call it for every request: a role session renews
   * inside, a rewritten profile file is read again. The same object comes back while nothing changed.
   * Rejects with a TokenError when no source yields a credential.
   */
  get(): Promise<AccountCredential>;
  /** A request signed with the current credential was rejected: resolve the source afresh next time. */
  invalidate(): boolean;
  /**
   * Where the last credential came from (type only): `configured key: static_ak`, or the chain's provider
   * as the library names it, e.g. `default chain: profile/ram_role_arn/static_ak`.
   */
  source(): string | undefined;
}

export interface AccountCredentialsOptions {
  readonly credentials: CredentialsConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** How often the profile files are looked at for changes. Default 1000 ms. */
  readonly fileCheckIntervalMs?: number;
}

/** Explicit keys from the configuration, or else the library's default credential chain. */
export function accountCredentials(options: AccountCredentialsOptions): AccountCredentials {
  const { accessKeyId, accessKeySecret, securityToken } = options.credentials;
  if (accessKeyId) {
    const config = securityToken
      ? new Config({ type: 'sts', accessKeyId, accessKeySecret, securityToken })
      : new Config({ type: 'access_key', accessKeyId, accessKeySecret });
    return new ResolvedAccount(() => new Credential(config), options.logger, undefined, 'configured key');
  }
  const watched = new WatchedFiles(profileFiles(options.env), options.fileCheckIntervalMs ?? 1000);
  return new ResolvedAccount(() => new Credential(), options.logger, watched, 'default chain');
}

class ResolvedAccount implements AccountCredentials {
  #credential: LibraryCredential;
  #stale = false;
  #current?: AccountCredential;
  #source?: string;
  #inflight?: Promise<AccountCredential>;

  constructor(
    private readonly build: () => LibraryCredential,
    private readonly logger: Logger,
    /** Set for the chain only: explicit keys never change while running. */
    private readonly watched: WatchedFiles | undefined,
    private readonly origin: string,
  ) {
    this.#credential = build();
  }

  get(): Promise<AccountCredential> {
    // Concurrent callers share one resolution, so a burst of refreshes makes one AssumeRole call.
    this.#inflight ??= this.#resolve().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  invalidate(): boolean {
    if (!this.watched) return false;
    this.#stale = true;
    return true;
  }

  source(): string | undefined {
    return this.#source;
  }

  async #resolve(): Promise<AccountCredential> {
    // The chain caches its profile files and sticks to the provider it tried last, even after a
    // failure: it is rebuilt when a profile file changes, after a failure and after a rejection.
    if (this.watched && ((await this.watched.changed()) || this.#stale)) {
      this.#credential = this.build();
      this.#stale = false;
    }
    let model;
    try {
      model = await this.#credential.getCredential();
    } catch (err) {
      if (this.watched) this.#stale = true;
      throw credentialError(err, this.origin);
    }
    const { accessKeyId, accessKeySecret, securityToken, providerName } = model;
    if (!accessKeyId || !accessKeySecret) {
      throw new TokenError(`account credentials: ${this.origin} returned no AccessKey`, 'auth');
    }
    this.#noteSource(`${this.origin}: ${(providerName ?? 'unknown').replace(/^default\//, '')}`);
    const c = this.#current;
    if (
      c?.accessKeyId !== accessKeyId ||
      c.accessKeySecret !== accessKeySecret ||
      c.securityToken !== securityToken
    ) {
      this.#current = Object.freeze({
        accessKeyId,
        accessKeySecret,
        securityToken: securityToken || undefined,
      });
    }
    return this.#current as AccountCredential;
  }

  #noteSource(source: string): void {
    if (source === this.#source) return;
    this.#source = source;
    this.logger.info('account credentials resolved', { event: 'credentials_resolved', source });
  }
}

/**
 * The chain's message lists why each source failed (a missing variable, a missing file, an STS
 * reply, an unreachable metadata service), so it cannot tell "unreachable" apart: it is an auth
 * failure. The message may quote a signed request or an STS reply: scrub it anyway.
 */
function credentialError(err: unknown, origin: string): TokenError {
  const raw = errorMessage(err);
  return new TokenError(`account credentials (${origin}): ${redactText(raw)}`, 'auth');
}
