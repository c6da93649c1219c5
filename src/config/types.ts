import type { MessageType } from '../receipts/types.js';

/**
 * A handler entry: a built-in name (`"log"`), a built-in with options (`{ "name": "forward", "options": … }`),
 * or a module path relative to the config directory (`{ "module": "./handlers/x.js", "options": … }`).
 */
export type HandlerEntry =
  | string
  | { readonly module: string; readonly options?: Readonly<Record<string, unknown>> }
  | { readonly name: string; readonly options?: Readonly<Record<string, unknown>> };

/** One consumer loop, declared in a file under `<config>/queues/`. */
export interface ConsumerConfig {
  /** The queue file that declared it, for error messages. */
  readonly file: string;
  readonly messageType: MessageType;
  readonly queueName: string;
  /** `cams`: token from QueryTokenForMnsQueue; `static`: sign with the configured AccessKey. */
  readonly auth: 'cams' | 'static';
  readonly endpoint: string;
  readonly maxInFlight: number;
  readonly waitSeconds: number;
  readonly batchSize: number;
}

export interface RedisTlsConfig {
  /** TLS for the cluster and sentinel forms; a standalone node uses TLS when its URL is `rediss://`. */
  readonly enabled: boolean;
  /** Absolute after loading; empty trusts the system CAs. */
  readonly caPath: string;
  readonly servername: string;
  readonly insecureSkipVerify: boolean;
}

/**
 * Where Redis is: one standalone node (`url`), a Redis Cluster (`cluster.nodes`), or the master a set of
 * sentinels names (`sentinel.nodes` and `sentinel.name`). The loader lets only one form be set.
 */
export interface RedisConfig {
  readonly url: string;
  readonly cluster: { readonly nodes: readonly string[] };
  readonly sentinel: {
    readonly nodes: readonly string[];
    readonly name: string;
    readonly password: string;
  };
  /** Credentials for every data node, whichever the form. */
  readonly username: string;
  readonly password: string;
  readonly tls: RedisTlsConfig;
  /** BullMQ key prefix; wrapped in `{}` so every key of a queue hashes to one Redis Cluster slot. */
  readonly prefix: string;
  /** Hash tags the queues and records are spread over (1: redis.prefix alone, today's layout). */
  readonly partitions: number;
  /** The partitions of the layout being migrated from, looked up and drained too (0: none). */
  readonly previousPartitions: number;
}

export interface SmqConfig {
  readonly endpoint: string;
  readonly accountId: string;
  readonly tokenEndpoint: string;
  /** Defaults for every consumer loop; a queue file may override the first four. */
  readonly maxInFlight: number;
  readonly waitSeconds: number;
  readonly batchSize: number;
  /** Visibility given on each lease extension. */
  readonly visibilityTimeoutSeconds: number;
  /** Extend a lease this long before it would expire. */
  readonly leaseLeadMs: number;
  /** Stop extending a message's lease after this long, and let it redeliver. */
  readonly maxLeaseMs: number;
  /** Pause after a partial batch, so moderate traffic arrives in fuller ones. */
  readonly receiveLingerMs: number;
  /** Deletes are buffered up to 16 or this long. */
  readonly deleteFlushMs: number;
  /** Refresh a token this long before its ExpireTime. */
  readonly tokenRefreshMarginMs: number;
  /** Backoff bounds for failed polls. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Backoff when the queue does not exist. */
  readonly queueMissingBackoffMs: number;
}

/** Explicit account keys; all empty means the default credential chain (src/credentials/account.ts). */
export interface CredentialsConfig {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Set when the pair is a temporary STS pair. */
  readonly securityToken: string;
}

export interface PipelineConfig {
  /** Handler jobs run at once per message type in this process. */
  readonly concurrency: number;
  readonly attempts: number;
  readonly backoffDelayMs: number;
  readonly handlerTimeoutMs: number;
  readonly idempotencyTtlSeconds: number;
  readonly removeCompletedAgeSeconds: number;
  readonly removeCompletedCount: number;
  readonly removeFailedAgeSeconds: number;
  readonly removeFailedCount: number;
  readonly eventsMaxLen: number;
  /** BullMQ job lock; renewed at half this interval while a handler runs. */
  readonly lockDurationMs: number;
  /** How often workers recover jobs whose lock lapsed. */
  readonly stalledIntervalMs: number;
  /** Readiness fails for a worker that heard nothing from Redis about work for this long. */
  readonly workerStaleAfterMs: number;
  /** Stalls (a worker died holding the job) allowed before the receipt is dead-lettered as `stalled`. */
  readonly maxStalledCount: number;
}

export interface HttpConfig {
  readonly host: string;
  /** 0 disables the HTTP server. */
  readonly port: number;
  /** The push path for each receipt type. */
  readonly paths: Readonly<Record<MessageType, string>>;
  /** Larger request bodies get 413. */
  readonly bodyLimitBytes: number;
  /**
   * `''`: no secret. Otherwise every push request must carry it, as a trailing path segment
   * (`/inbound/<secret>`) or as the `token` query parameter; a wrong or missing secret gets 404.
   */
  readonly secret: string;
  /** Source IPs and CIDRs allowed to push; empty allows every address. */
  readonly allowlist: readonly string[];
  /**
   * Take the client address from `X-Forwarded-For` (behind a reverse proxy): `true` trusts the one
   * proxy in front, a number trusts that many hops.
   */
  readonly trustProxy: boolean | number;
  /** Absolute paths after loading; both empty serves plain HTTP. */
  readonly tls: { readonly certPath: string; readonly keyPath: string };
}

export interface DashboardConfig {
  readonly enabled: boolean;
  /** Basic-auth credentials; both are required when the dashboard is enabled. */
  readonly username: string;
  readonly password: string;
  readonly readOnly: boolean;
}

export interface AdminConfig {
  /** Health, metrics and the dashboard get their own listener on this port; 0 serves them on the HTTP server. */
  readonly port: number;
  /** The interface of the admin listener (used only when `port` is not 0). */
  readonly host: string;
  readonly dashboard: DashboardConfig;
}

export interface AppConfig {
  /** The configuration directory everything else is resolved against. */
  readonly configDir: string;
  readonly env: string;
  readonly role: 'all' | 'poller' | 'worker';
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  readonly redis: RedisConfig;
  readonly smq: SmqConfig;
  readonly credentials: CredentialsConfig;
  readonly pipeline: PipelineConfig;
  readonly shutdown: { readonly drainTimeoutMs: number };
  readonly http: HttpConfig;
  readonly admin: AdminConfig;
  readonly handlers: readonly HandlerEntry[];
  readonly consumers: readonly ConsumerConfig[];
}
