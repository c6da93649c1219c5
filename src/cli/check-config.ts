import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact-config.js';
import type { AppConfig } from '../config/types.js';
import { configWarnings } from '../config/warnings.js';
import { accountCredentials } from '../credentials/account.js';
import { CamsError, ConfigError } from '../errors.js';
import { assertHandled } from '../handlers/coverage.js';
import { loadHandlers } from '../handlers/loader.js';
import { silentLogger } from '../observability/logger.js';
import { redactedMessage } from '../observability/redact.js';
import { describeTarget } from '../redis/options.js';
import { describeTopology, inspectTopology, type Topology } from '../redis/topology.js';
import { writeLine } from './io.js';
import type { CliIo, Command } from './io.js';

const USAGE = `Usage: cams-receipts check-config [--config <dir>] [--json] [--offline]

Loads the configuration exactly as "start" would (<dir>/default.json, <dir>/<NODE_ENV>.json,
environment variables, <dir>/queues/*), validates it, imports the handler modules (without
calling their init) unless the role is poller, and prints the effective configuration with
secrets redacted. When SMQ consumers are declared, it resolves the account credential as "start"
would (which may call STS or the instance metadata service) and prints its source, never the secret.
It connects to Redis as configured and says what it found there: a standalone node, the master the
sentinels name, or a cluster and its masters; a topology other than the one configured is an error.

Options:
  --config <dir>  configuration directory (default: $CAMS_CONFIG_DIR, else ./config)
  --json          print one JSON object:
                  {"ok":true,"config":…,"handlers":[…],"credentials":{"source":…},"redis":{…},"warnings":[…]}
  --offline       do not connect to Redis
  -h, --help      show this help

Exit codes: 0 valid (an unreachable Redis is a warning), 1 invalid configuration, handler module or
Redis topology, 2 usage error.`;

function consumerSummary(config: AppConfig): string {
  const { consumers } = config;
  if (consumers.length === 0) return 'consumers: none (no queue files in queues/)';
  const list = consumers.map(c => `${c.messageType} ${c.queueName} (${c.auth}, ${c.endpoint})`);
  return `consumers: ${consumers.length}: ${list.join('; ')}`;
}

function errorDetails(err: unknown): { code: string; message: string; file?: string; key?: string } {
  const message = redactedMessage(err);
  const code = err instanceof CamsError ? err.code : 'ERROR';
  if (!(err instanceof ConfigError)) return { code, message };
  return { code, message, ...(err.file ? { file: err.file } : {}), ...(err.key ? { key: err.key } : {}) };
}

/**
 * Imports and validates the handler modules as `start` would, without calling init (no connections are
 * opened), and checks every consumed type has one. A poller runs no handlers, so it needs none.
 */
async function checkHandlers(config: AppConfig): Promise<readonly string[] | undefined> {
  if (config.role === 'poller') return undefined;
  const registry = await loadHandlers(config.handlers, config.configDir, { logger: silentLogger() });
  assertHandled(config, registry);
  return registry.names();
}

interface CredentialCheck {
  readonly source: string | null;
  readonly error?: string;
}

/** Which source the account credential comes from; undefined when this process polls no queue. */
async function checkCredentials(config: AppConfig, env: CliIo['env']): Promise<CredentialCheck | undefined> {
  if (config.role === 'worker' || config.consumers.length === 0) return undefined;
  const account = accountCredentials({ credentials: config.credentials, env, logger: silentLogger() });
  try {
    await account.get();
    return { source: account.source() ?? null };
  } catch (err) {
    return { source: null, error: redactedMessage(err) };
  }
}

interface RedisCheck {
  readonly topology?: Topology;
  /** What was found, or why nothing answered. */
  readonly description: string;
  readonly reachable: boolean;
}

/** Connects as `start` would; a ConfigError (another topology than configured) is thrown to the caller. */
async function checkRedis(config: AppConfig): Promise<RedisCheck> {
  try {
    const topology = await inspectTopology(config.redis);
    return { topology, description: describeTopology(topology), reachable: true };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = redactedMessage(err);
    return { description: `${describeTarget(config.redis)} is unreachable: ${reason}`, reachable: false };
  }
}

function credentialLine(check: CredentialCheck | undefined): string {
  if (!check) return 'credentials: not needed (no SMQ consumer polled by this role)';
  return `credentials: ${check.source ?? 'none found'}`;
}

/** `cams-receipts check-config`: validates the configuration and prints it, secrets redacted. */
export const checkConfigCommand: Command = async (args, io) => {
  const values = parseOptions(args, io);
  if (typeof values === 'number') return values;
  /** Reports what failed (stderr, and the JSON object with --json); the exit code is 1. */
  const invalid = (what: string, err: unknown): number => {
    const details = errorDetails(err);
    writeLine(io.stderr, `invalid ${what}: ${details.message}`);
    if (values.json) writeLine(io.stdout, JSON.stringify({ ok: false, error: details }));
    return 1;
  };
  let config: AppConfig;
  try {
    config = loadConfig({ cwd: io.cwd, env: io.env, configDir: values.config });
  } catch (err) {
    return invalid('configuration', err);
  }
  const checked = await checkAll(config, values.offline === true, io.env);
  if ('failed' in checked) return invalid(checked.failed, checked.error);
  report(io, values.json === true, checked);
  return 0;
};

interface CheckOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly offline?: boolean;
}

/** The options, or the exit code when they are wrong (usage printed) or --help was asked. */
function parseOptions(args: readonly string[], io: CliIo): CheckOptions | number {
  let values: CheckOptions & { help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        offline: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    writeLine(io.stderr, `check-config: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!values.help) return values;
  writeLine(io.stdout, USAGE);
  return 0;
}

interface CheckReport {
  readonly config: AppConfig;
  readonly handlers: readonly string[] | undefined;
  readonly redis: RedisCheck | undefined;
  readonly credentials: CredentialCheck | undefined;
  readonly warnings: readonly string[];
}

/** The handlers, Redis (unless offline) and credential checks, or which of them failed and why. */
async function checkAll(
  config: AppConfig,
  offline: boolean,
  env: CliIo['env'],
): Promise<CheckReport | { failed: string; error: unknown }> {
  let handlers: readonly string[] | undefined;
  try {
    handlers = await checkHandlers(config);
  } catch (error) {
    return { failed: 'handlers', error };
  }
  let redis: RedisCheck | undefined;
  try {
    redis = offline ? undefined : await checkRedis(config);
  } catch (error) {
    return { failed: 'Redis topology', error };
  }
  const credentials = await checkCredentials(config, env);
  const warnings = configWarnings(config);
  if (redis && !redis.reachable) warnings.push(`${redis.description}; \`start\` will wait for it`);
  if (credentials?.error) {
    warnings.unshift(`no account credential was found; \`start\` will refuse to run: ${credentials.error}`);
  }
  return { config, handlers, redis, credentials, warnings };
}

function report(io: CliIo, json: boolean, r: CheckReport): void {
  const { redis } = r;
  if (json) {
    const out = {
      ok: true,
      config: redactConfig(r.config),
      handlers: r.handlers,
      credentials: r.credentials ?? null,
      redis: redis
        ? { reachable: redis.reachable, description: redis.description, topology: redis.topology }
        : null,
      warnings: r.warnings,
    };
    writeLine(io.stdout, JSON.stringify(out));
    return;
  }
  writeLine(io.stdout, JSON.stringify(redactConfig(r.config), null, 2));
  writeLine(io.stdout, consumerSummary(r.config));
  writeLine(io.stdout, credentialLine(r.credentials));
  const redisLine = redis?.topology ? redis.description : redis ? 'unreachable' : 'not checked (--offline)';
  writeLine(io.stdout, `redis: ${redisLine}`);
  writeLine(
    io.stdout,
    r.handlers ? `handlers: ${r.handlers.join(', ')}` : 'handlers: not loaded (role poller)',
  );
  for (const warning of r.warnings) writeLine(io.stderr, `warning: ${warning}`);
}
