import { createRequire } from 'node:module';
import type { AppConfig, ConsumerConfig } from '../config/types.js';
import { accountCredentials } from '../credentials/account.js';
import { silentLogger } from '../observability/logger.js';
import { redactedMessage, redactText } from '../observability/redact.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { MESSAGE_TYPES, type MessageType } from '../receipts/types.js';
import { describeTarget } from '../redis/options.js';
import { describeTopology } from '../redis/topology.js';
import { toSmqError } from '../smq/classify.js';
import { TokenProvider, accountSource, type CredentialSource } from '../smq/token-provider.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  flag,
  loadCommandConfig,
  openAdminPipeline,
  parseCommandArgs,
  stringOption,
  table,
} from './args.js';
import { writeLine, type CliIo, type Command } from './io.js';

const USAGE = `Usage: cams-receipts stats [--config <dir>] [--json]

Shows, per message type, the BullMQ job counts (waiting, active, delayed, completed, failed), the
number of dead-letter entries, and for each configured SMQ queue its attributes (active, inactive and
delayed messages) when SMQ is reachable.

Options:
  --config <dir>  configuration directory (default: ./config)
  --json          print one JSON object
  -h, --help      show this help

Exit codes: 0 ok (an unreachable SMQ queue is reported, not a failure), 1 Redis unreachable or an
invalid configuration, 2 usage error.`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** How long one GetQueueAttributes (or token) call may take before the queue is reported unavailable. */
const SMQ_TIMEOUT_MS = 5000;

export interface JobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
}

export type SmqQueueStats =
  | {
      readonly queueName: string;
      readonly messageType: MessageType;
      readonly available: true;
      readonly activeMessages: number;
      readonly inactiveMessages: number;
      readonly delayMessages: number;
    }
  | {
      readonly queueName: string;
      readonly messageType: MessageType;
      readonly available: false;
      readonly reason: string;
    };

export interface Stats {
  readonly redis: {
    /** Where the configuration says Redis is (passwords hidden). */
    readonly target: string;
    /** What was found there: standalone, the master the sentinels name, or the cluster's masters. */
    readonly topology?: string;
    readonly prefix: string;
    readonly available: boolean;
    readonly reason?: string;
  };
  readonly bullmq: Partial<Record<MessageType, JobCounts>>;
  readonly deadLetters?: number;
  readonly smq: readonly SmqQueueStats[];
}

/** `cams-receipts stats`: BullMQ counts per type, dead letters, and SMQ queue attributes. */
export const statsCommand: Command = async (args, io) => {
  const parsed = parseCommandArgs(args, OPTIONS, io, 'stats', USAGE);
  if (typeof parsed === 'number') return parsed;
  if (flag(parsed, 'help')) {
    writeLine(io.stdout, USAGE);
    return EXIT_OK;
  }
  if (parsed.positionals.length > 0) {
    writeLine(io.stderr, `stats: unexpected argument "${parsed.positionals[0]}"\n\n${USAGE}`);
    return 2;
  }
  const config = loadCommandConfig(io, stringOption(parsed, 'config'));
  if (!config) return EXIT_FAILURE;
  const [bull, smq] = await Promise.all([bullStats(config), smqStats(config, io.env)]);
  const stats: Stats = { ...bull, smq };
  if (flag(parsed, 'json')) writeLine(io.stdout, JSON.stringify(stats));
  else writeLine(io.stdout, render(stats));
  return stats.redis.available ? EXIT_OK : EXIT_FAILURE;
};

async function bullStats(config: AppConfig): Promise<Omit<Stats, 'smq'>> {
  const redis = { target: describeTarget(config.redis), prefix: config.redis.prefix };
  let pipeline: Pipeline | undefined;
  try {
    pipeline = await openAdminPipeline(config);
    const open = pipeline;
    const counts = await Promise.all(MESSAGE_TYPES.map(type => jobCounts(open, type)));
    const bullmq = Object.fromEntries(MESSAGE_TYPES.map((type, i) => [type, counts[i]]));
    const topology = open.topology ? describeTopology(open.topology) : undefined;
    return {
      redis: { ...redis, topology, available: true },
      bullmq,
      deadLetters: await open.deadLetters.count(),
    };
  } catch (err) {
    return { redis: { ...redis, available: false, reason: redactedMessage(err) }, bullmq: {} };
  } finally {
    await pipeline?.close();
  }
}

async function jobCounts(pipeline: Pipeline, type: MessageType): Promise<JobCounts> {
  const c = await pipeline.queues
    .get(type)
    .getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
  return {
    // Prioritized jobs wait too, in their own set.
    waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
    active: c['active'] ?? 0,
    delayed: c['delayed'] ?? 0,
    completed: c['completed'] ?? 0,
    failed: c['failed'] ?? 0,
  };
}

// --- SMQ ----------------------------------------------------------------------------------------

interface MnsClient {
  get(
    resource: string,
    type: string,
    opts: { readTimeout: number; connectTimeout: number },
  ): Promise<{ code: number; body?: Record<string, unknown> }>;
}
type MnsClientCtor = new (
  accountId: string,
  opts: { endpoint: string; accessKeyId: string; accessKeySecret: string; securityToken?: string },
) => MnsClient;
const MNSClient = createRequire(import.meta.url)('@alicloud/mns') as MnsClientCtor;

async function smqStats(config: AppConfig, env: CliIo['env']): Promise<SmqQueueStats[]> {
  if (config.consumers.length === 0) return [];
  const account = accountCredentials({ credentials: config.credentials, env, logger: silentLogger() });
  const tokens = config.consumers.some(c => c.auth === 'cams')
    ? new TokenProvider({
        endpoint: config.smq.tokenEndpoint,
        account,
        requestTimeoutMs: SMQ_TIMEOUT_MS,
        logger: silentLogger(),
      })
    : undefined;
  return Promise.all(
    config.consumers.map(consumer => {
      const source =
        consumer.auth === 'static' || !tokens
          ? accountSource(account)
          : tokens.forQueue(consumer.messageType, consumer.queueName);
      return queueAttributes(config, consumer, source);
    }),
  );
}

/** GetQueueAttributes through the official client, signed like the consumer loop signs. */
async function queueAttributes(
  config: AppConfig,
  consumer: ConsumerConfig,
  source: CredentialSource,
): Promise<SmqQueueStats> {
  try {
    const credentials = await source.credentials();
    const client = new MNSClient(config.smq.accountId, {
      endpoint: (consumer.endpoint || config.smq.endpoint).replace(/\/+$/, ''),
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      securityToken: credentials.securityToken,
    });
    const res = await client.get(`/queues/${encodeURIComponent(consumer.queueName)}`, 'Queue', {
      readTimeout: SMQ_TIMEOUT_MS,
      connectTimeout: SMQ_TIMEOUT_MS,
    });
    if (res.code >= 400 || !res.body)
      return unavailable(consumer, `HTTP ${res.code} without queue attributes`);
    return {
      queueName: consumer.queueName,
      messageType: consumer.messageType,
      available: true,
      activeMessages: Number(res.body['ActiveMessages'] ?? 0),
      inactiveMessages: Number(res.body['InactiveMessages'] ?? 0),
      delayMessages: Number(res.body['DelayMessages'] ?? 0),
    };
  } catch (err) {
    const error = toSmqError(err, 'GetQueueAttributes');
    const code = error.smqCode ? `${error.smqCode}: ` : '';
    return unavailable(consumer, `${code}${error.message}`);
  }
}

function unavailable(consumer: ConsumerConfig, reason: string): SmqQueueStats {
  return {
    queueName: consumer.queueName,
    messageType: consumer.messageType,
    available: false,
    reason: redactText(reason),
  };
}

// --- output -------------------------------------------------------------------------------------

export function render(stats: Stats): string {
  const lines: string[] = [`BullMQ (${stats.redis.target}, prefix ${stats.redis.prefix})`];
  if (stats.redis.topology) lines.push(`Redis: ${stats.redis.topology}`);
  if (!stats.redis.available) {
    lines.push(`  unavailable: ${stats.redis.reason ?? 'unknown'}`);
  } else {
    const rows = MESSAGE_TYPES.map(type => {
      const c = stats.bullmq[type];
      return [type, ...(c ? [c.waiting, c.active, c.delayed, c.completed, c.failed].map(String) : [])];
    });
    lines.push(table(['TYPE', 'WAITING', 'ACTIVE', 'DELAYED', 'COMPLETED', 'FAILED'], rows));
    lines.push(
      '',
      `Dead-letter store: ${stats.deadLetters ?? 0} entr${stats.deadLetters === 1 ? 'y' : 'ies'}`,
    );
  }
  lines.push('', 'SMQ queues');
  if (stats.smq.length === 0) {
    lines.push('  none configured (no queue files in <config>/queues/)');
  } else {
    const rows = stats.smq.map(q =>
      q.available
        ? [
            q.queueName,
            q.messageType,
            String(q.activeMessages),
            String(q.inactiveMessages),
            String(q.delayMessages),
          ]
        : [q.queueName, q.messageType, `unavailable: ${q.reason}`],
    );
    lines.push(table(['QUEUE', 'TYPE', 'ACTIVE', 'INACTIVE', 'DELAYED'], rows));
  }
  return lines.join('\n');
}
