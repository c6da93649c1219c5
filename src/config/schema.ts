import type convict from 'convict';
import type { AppConfig } from './types.js';
import {
  bool,
  boolOrHops,
  handlerList,
  httpPathOrOff,
  httpSecret,
  httpUrl,
  int,
  ipAllowlist,
  oneOf,
  port,
  str,
} from './formats.js';
import type { Format } from './formats.js';
import { redisSchema } from './schema-redis.js';
import { RECEIPT_TYPES } from '../receipts/types.js';

/** What the schema covers: everything but the directory and the queue files. */
export type ConfigProperties = Omit<AppConfig, 'configDir' | 'consumers'>;

const ANY_STRING = str();

/** One push path per receipt type, from the type registry. */
function pushPaths(): convict.Schema<AppConfig['http']['paths']> {
  const entries = RECEIPT_TYPES.map(t => [
    t.name,
    t.pushPath
      ? {
          doc: `Push path for ${t.name} batches; empty: not received by push.`,
          format: httpPathOrOff,
          default: t.pushPath,
        }
      : {
          doc: `Push path for ${t.name} batches, e.g. \`/${t.name.toLowerCase()}\`; empty: not received by push.`,
          format: httpPathOrOff,
          default: '',
        },
  ]);
  return Object.fromEntries(entries) as convict.Schema<AppConfig['http']['paths']>;
}
const ACCOUNT_ID = str(/^\d+$/, 'a string of digits (quote it in JSON)');
const NODE_ENV = str(
  /^[A-Za-z0-9_-]+$/,
  'a name of letters, digits, _ and - (it names <config>/<NODE_ENV>.json)',
);
const USERNAME = str(/^[^:\s]*$/, 'a name without ":" or spaces');
const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/**
 * The one configuration schema. Every key has `doc`, `format` (always one of our functions, so
 * the loader can name the file and key of a bad value) and `default`; secrets are `sensitive`.
 */
export const configSchema: convict.Schema<ConfigProperties> = {
  env: {
    doc: 'The deployment environment. It also picks the optional `<config>/<NODE_ENV>.json` layer; set it only through NODE_ENV.',
    format: NODE_ENV,
    default: 'production',
    env: 'NODE_ENV',
  },
  role: {
    doc: 'What this process runs: all (pollers, HTTP receiver and workers), poller (pollers and HTTP receiver), or worker (handler workers only).',
    format: oneOf(['all', 'poller', 'worker']),
    default: 'all',
    env: 'CAMS_ROLE',
  },
  log: {
    level: {
      doc: 'winston log level: error, warn, info, http, verbose, debug or silly.',
      format: oneOf(LOG_LEVELS),
      default: 'info',
      env: 'LOG_LEVEL',
    },
    format: {
      doc: 'json (one object per line, for journald and PM2) or pretty. Defaults to pretty when NODE_ENV=development and nothing sets it.',
      format: oneOf(['json', 'pretty']),
      default: 'json',
      env: 'CAMS_LOG_FORMAT',
    },
  },
  redis: redisSchema,
  smq: {
    endpoint: {
      doc: 'SMQ (MNS) endpoint of the account that owns the CAMS queues. China site: `https://1943695596114318.mns.cn-hangzhou.aliyuncs.com`; international: `https://1493622401794734.mns.ap-southeast-1.aliyuncs.com`.',
      format: httpUrl,
      default: 'https://1943695596114318.mns.cn-hangzhou.aliyuncs.com',
      env: 'CAMS_SMQ_ENDPOINT',
    },
    accountId: {
      doc: 'The MNS account id in the endpoint: 1943695596114318 (China site) or 1493622401794734 (international, ap-southeast-1).',
      format: ACCOUNT_ID,
      default: '1943695596114318',
      env: 'CAMS_SMQ_ACCOUNT_ID',
    },
    tokenEndpoint: {
      doc: 'Where QueryTokenForMnsQueue is called. International accounts: `https://dybaseapi.ap-southeast-1.aliyuncs.com`.',
      format: httpUrl,
      default: 'https://dybaseapi.aliyuncs.com',
      env: 'CAMS_SMQ_TOKEN_ENDPOINT',
    },
    maxInFlight: {
      doc: 'Messages one consumer loop holds at once; it receives only as many as it has room for.',
      format: int(1, 100_000),
      default: 512,
    },
    waitSeconds: {
      doc: 'Long-poll wait of BatchReceiveMessage (0 to 30).',
      format: int(0, 30),
      default: 30,
    },
    batchSize: {
      doc: 'Messages asked for per BatchReceiveMessage (1 to 16).',
      format: int(1, 16),
      default: 16,
    },
    visibilityTimeoutSeconds: {
      doc: 'Visibility given on each lease extension (ChangeMessageVisibility).',
      format: int(1, 43_200),
      default: 60,
    },
    leaseLeadMs: {
      doc: 'Extend a lease this long before it would expire. Must be below visibilityTimeoutSeconds.',
      format: int(0),
      default: 10_000,
    },
    maxLeaseMs: {
      doc: 'Stop extending a message after this long in flight, and let SMQ redeliver it.',
      format: int(1_000),
      default: 3_600_000,
    },
    receiveLingerMs: {
      doc: 'After a receive that returned fewer messages than batchSize (but some), wait this long before the next one: moderate traffic then arrives in fuller batches, with fewer SMQ requests and Redis round trips per receipt. Adds at most this much latency; 0 receives again at once.',
      format: int(0, 1_000),
      default: 20,
    },
    deleteFlushMs: {
      doc: 'Deletes are sent in batches of 16, or after this delay.',
      format: int(0, 60_000),
      default: 50,
    },
    tokenRefreshMarginMs: {
      doc: 'Refresh a QueryTokenForMnsQueue token this long before its ExpireTime.',
      format: int(0, 3_600_000),
      default: 120_000,
    },
    backoffBaseMs: {
      doc: 'First delay of the jittered exponential backoff after a failed poll.',
      format: int(1),
      default: 200,
    },
    backoffMaxMs: {
      doc: 'Largest backoff delay after failed polls. Must be >= backoffBaseMs.',
      format: int(1),
      default: 30_000,
    },
    queueMissingBackoffMs: {
      doc: 'Delay before polling again a queue that does not exist (QueueNotExist).',
      format: int(1),
      default: 60_000,
    },
  },
  credentials: {
    accessKeyId: {
      doc: 'AccessKey id that calls QueryTokenForMnsQueue (auth: cams) or signs SMQ requests (auth: static). Empty: the default credential chain (docs/credentials.md). Sensitive.',
      format: ANY_STRING,
      default: '',
      env: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
      sensitive: true,
    },
    accessKeySecret: {
      doc: 'The AccessKey secret. Sensitive.',
      format: ANY_STRING,
      default: '',
      env: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      sensitive: true,
    },
    securityToken: {
      doc: 'STS security token, when the AccessKey above is a temporary STS pair. Sensitive.',
      format: ANY_STRING,
      default: '',
      env: 'ALIBABA_CLOUD_SECURITY_TOKEN',
      sensitive: true,
    },
  },
  pipeline: {
    concurrency: {
      doc: 'Handler jobs run at once per message type in this process (spread over BullMQ workers of at most 64 each).',
      format: int(1, 10_000),
      default: 256,
    },
    attempts: {
      doc: 'Attempts per job before it is dead-lettered.',
      format: int(1, 1_000),
      default: 5,
    },
    backoffDelayMs: {
      doc: 'Base delay of the exponential backoff between attempts.',
      format: int(0),
      default: 1_000,
    },
    handlerTimeoutMs: {
      doc: 'A handler call is aborted and counted as failed after this long.',
      format: int(1),
      default: 30_000,
    },
    idempotencyTtlSeconds: {
      doc: 'How long a (handler, dedupe key) completion is remembered.',
      format: int(1),
      default: 604_800,
    },
    removeCompletedAgeSeconds: {
      doc: 'Completed jobs are removed once older than this.',
      format: int(0),
      default: 3_600,
    },
    removeCompletedCount: {
      doc: 'Completed jobs beyond this many per queue are removed.',
      format: int(0),
      default: 10_000,
    },
    removeFailedAgeSeconds: {
      doc: 'Failed jobs are removed once older than this (their receipts are in the dead-letter store).',
      format: int(0),
      default: 604_800,
    },
    removeFailedCount: {
      doc: 'Failed jobs beyond this many per queue are removed (their receipts are in the dead-letter store).',
      format: int(0),
      default: 10_000,
    },
    eventsMaxLen: {
      doc: 'Approximate length the BullMQ event streams, and the completion stream pollers read, are trimmed to.',
      format: int(1),
      default: 100_000,
    },
    lockDurationMs: {
      doc: "BullMQ job lock; renewed at half this interval while a handler runs. A crashed worker's jobs are retried once it lapses.",
      format: int(1000),
      default: 30_000,
    },
    stalledIntervalMs: {
      doc: 'How often workers look for jobs whose lock lapsed (a crashed worker) and put them back in the queue.',
      format: int(1000),
      default: 15_000,
    },
    workerStaleAfterMs: {
      doc: 'Readiness fails when a BullMQ worker has neither fetched a job nor found its queue empty for this long (an idle worker asks every 5 s), unless all its slots are busy: its Redis connection died without an error.',
      format: int(10_000),
      default: 30_000,
    },
    maxStalledCount: {
      doc: 'A job whose worker died (its lock lapsed) this many times is run again; one more and the receipt is dead-lettered with reason `stalled` instead of crashing another process.',
      format: int(0, 1_000),
      default: 2,
    },
  },
  shutdown: {
    drainTimeoutMs: {
      doc: 'On SIGTERM/SIGINT, wait this long for in-flight jobs; whatever is unfinished stays in SMQ and redelivers.',
      format: int(0),
      default: 25_000,
      env: 'CAMS_DRAIN_TIMEOUT_MS',
    },
  },
  http: {
    host: {
      doc: 'Interface of the HTTP server (push receiver, and health/metrics/dashboard unless admin.port is set).',
      format: str(/^\S+$/, 'a host name or IP address'),
      default: '127.0.0.1',
      env: 'CAMS_HTTP_HOST',
    },
    port: {
      doc: 'Port of the HTTP server; 0 disables it. The push receiver is on whenever the server is.',
      format: port,
      default: 0,
      env: 'CAMS_HTTP_PORT',
    },
    paths: pushPaths(),
    bodyLimitBytes: {
      doc: 'Larger push bodies are refused with 413.',
      format: int(1, 100 * 1024 * 1024),
      default: 1_048_576,
    },
    secret: {
      doc: 'Optional push secret (16+ URL-safe characters): required as a trailing path segment (`/inbound/<secret>`) or as `?token=<secret>`; a wrong one gets 404. Sensitive.',
      format: httpSecret,
      default: '',
      env: 'CAMS_HTTP_SECRET',
      sensitive: true,
    },
    allowlist: {
      doc: 'Source IPs/CIDRs allowed to push (others get 403); empty allows all.',
      format: ipAllowlist,
      default: [],
    },
    trustProxy: {
      doc: 'Take the client address from X-Forwarded-For behind a reverse proxy: true trusts the one proxy in front, a number that many hops.',
      format: boolOrHops,
      default: false,
    },
    tls: {
      certPath: {
        doc: 'TLS certificate (PEM), relative to the config directory; set with keyPath to serve HTTPS.',
        format: ANY_STRING,
        default: '',
      },
      keyPath: {
        doc: 'TLS private key (PEM), relative to the config directory.',
        format: ANY_STRING,
        default: '',
      },
    },
  },
  admin: {
    port: {
      doc: 'Separate port for health, metrics and the dashboard; 0 serves them on the HTTP server (http.port).',
      format: port,
      default: 0,
      env: 'CAMS_ADMIN_PORT',
    },
    host: {
      doc: 'Interface of the separate admin listener.',
      format: str(/^\S+$/, 'a host name or IP address'),
      default: '127.0.0.1',
      env: 'CAMS_ADMIN_HOST',
    },
    dashboard: {
      enabled: {
        doc: 'Serve the bull-board dashboard at /admin, behind basic auth.',
        format: bool,
        default: false,
      },
      username: {
        doc: 'Dashboard basic-auth user.',
        format: USERNAME,
        default: 'admin',
        env: 'CAMS_DASHBOARD_USERNAME',
      },
      password: {
        doc: 'Dashboard basic-auth password; required when the dashboard is enabled. Sensitive.',
        format: ANY_STRING,
        default: '',
        env: 'CAMS_DASHBOARD_PASSWORD',
        sensitive: true,
      },
      readOnly: {
        doc: 'Hide the dashboard actions that change jobs (retry, remove, clean).',
        format: bool,
        default: true,
      },
    },
  },
  handlers: {
    doc: 'Handlers every receipt goes to: a built-in name ("log", "forward") or `{ "module": "<path relative to the config dir>", "options": {…} }`.',
    format: handlerList,
    default: ['log'],
  },
};

/** One leaf of the schema, flattened. */
export interface SchemaLeaf {
  readonly key: string;
  readonly doc: string;
  readonly format: Format;
  readonly default: unknown;
  readonly env?: string;
  readonly sensitive: boolean;
}

function isLeaf(node: object): node is { default: unknown } {
  return 'default' in node;
}

function collectLeaves(node: Record<string, unknown>, prefix: string, out: SchemaLeaf[]): void {
  for (const [name, child] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (typeof child !== 'object' || child === null) continue;
    if (!isLeaf(child)) {
      collectLeaves(child as Record<string, unknown>, key, out);
      continue;
    }
    const item = child as convict.SchemaObj;
    out.push({
      key,
      doc: item.doc ?? '',
      format: item.format as Format,
      default: item.default,
      ...(item.env ? { env: item.env } : {}),
      sensitive: item.sensitive === true,
    });
  }
}

let leaves: readonly SchemaLeaf[] | undefined;

/** Every key of the schema, in schema order: for validation, redaction and docs/configuration.md. */
export function configSchemaDocs(): readonly SchemaLeaf[] {
  if (!leaves) {
    const out: SchemaLeaf[] = [];
    collectLeaves(configSchema as Record<string, unknown>, '', out);
    leaves = Object.freeze(out);
  }
  return leaves;
}

/** Leaves and groups by dotted key, for unknown-key checks. */
export function schemaNode(key: string): 'leaf' | 'group' | undefined {
  let node: unknown = configSchema;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || isLeaf(node) || !Object.hasOwn(node, part))
      return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node !== 'object' || node === null) return undefined;
  return isLeaf(node) ? 'leaf' : 'group';
}
