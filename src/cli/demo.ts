import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/types.js';
import { Daemon } from '../daemon.js';
import { PrivateRedisServer, REDIS_INSTALL_HINT, freePort } from '../local/private-redis.js';
import { startEmulator, type EmulatorHandle } from '../emulator/index.js';
import { createLogger } from '../observability/logger.js';
import { describeTarget } from '../redis/options.js';
import { wantsColor, writeLine, type CliIo, type Command } from './io.js';
import { untilAborted } from '../util/async.js';
import { errorMessage } from '../util/error-message.js';

const HELP = `Usage: cams-receipts demo [--rate <receipts/s>] [--duplicate-ratio <0..1>] [--http-port <port>]

Runs everything in one process, on this machine only: a private Redis (unless REDIS_URL,
CAMS_REDIS_CLUSTER_NODES or CAMS_REDIS_SENTINELS says which Redis to use),
the SMQ emulator generating realistic receipts (with some duplicates), and the daemon with the
"log" handler, the HTTP push receiver, health checks, metrics and the dashboard. Ctrl-C stops it.

Options:
  --rate <n>              Receipts generated per second (default 5)
  --duplicate-ratio <r>   Share of receipts enqueued twice (default 0.1)
  --http-port <port>      Port of the HTTP server (default: a free port)
  -h, --help              Show this help`;

const EMULATOR_CONFIG = fileURLToPath(new URL('../../config/emulator', import.meta.url));

export const demoCommand: Command = async (args, io) => {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        rate: { type: 'string', default: '5' },
        'duplicate-ratio': { type: 'string', default: '0.1' },
        'http-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    writeLine(io.stderr, `${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  const rate = Number(values.rate);
  const duplicateRatio = Number(values['duplicate-ratio']);
  if (!(rate >= 0) || !(duplicateRatio >= 0 && duplicateRatio <= 1)) {
    writeLine(io.stderr, `--rate must be >= 0 and --duplicate-ratio between 0 and 1\n\n${HELP}`);
    return 2;
  }
  return runDemo(io, rate, duplicateRatio, values['http-port'] ? Number(values['http-port']) : undefined);
};

/** The Redis settings of the environment (the demo ignores every other setting there). */
function redisEnvironment(env: CliIo['env']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        (entry[0] === 'REDIS_URL' || entry[0].startsWith('CAMS_REDIS_')) && Boolean(entry[1]),
    ),
  );
}

async function runDemo(io: CliIo, rate: number, duplicateRatio: number, httpPort?: number): Promise<number> {
  const redisEnv = redisEnvironment(io.env);
  const redis = await demoRedis(io, redisEnv);
  if (!redis) return 1;
  const emulator = await startEmulator({ port: 0, ratePerSecond: rate, duplicateRatio });
  const password = randomBytes(9).toString('base64url');
  const config = loadConfig({
    cwd: io.cwd,
    env: { ...redisEnv, NODE_ENV: 'development' },
    configDir: EMULATOR_CONFIG,
    overrides: demoOverrides(redis.server, emulator, httpPort ?? (await freePort()), password),
  });
  const logger = createLogger({ ...config.log, color: wantsColor(io, io.stdout) });
  const daemon = new Daemon({ config, logger });
  try {
    await daemon.start();
    const facts = {
      url: daemon.url ?? '',
      config,
      emulator,
      redis: redis.server,
      password,
      rate,
      duplicateRatio,
    };
    writeLine(io.stdout, banner(facts));
    io.notifyReady();
    await untilAborted(io.shutdown);
    writeLine(io.stdout, 'stopping…');
    return 0;
  } catch (err) {
    writeLine(io.stderr, `demo failed to start: ${errorMessage(err)}`);
    return 1;
  } finally {
    await daemon.stop().catch(() => undefined);
    await emulator.close();
    await redis.server?.destroy();
  }
}

/**
 * The Redis the environment names (REDIS_URL, a cluster or sentinels), or else a private redis-server of the
 * demo's own; undefined (said why) when there is neither.
 */
async function demoRedis(
  io: CliIo,
  redisEnv: Readonly<Record<string, string | undefined>>,
): Promise<{ server?: PrivateRedisServer } | undefined> {
  const given = ['REDIS_URL', 'CAMS_REDIS_CLUSTER_NODES', 'CAMS_REDIS_SENTINELS'].some(
    name => redisEnv[name],
  );
  if (given) return {};
  if (!PrivateRedisServer.isInstalled()) {
    writeLine(
      io.stderr,
      `The demo needs a redis-server binary. Install it with:\n\n  ${REDIS_INSTALL_HINT}\n`,
    );
    return undefined;
  }
  // Its own process group: a Ctrl-C meant for the demo must not kill Redis before the daemon drains.
  return { server: await PrivateRedisServer.start({ ownProcessGroup: true }) };
}

/** The emulator configuration, pointed at this demo's Redis, emulator and port, with the dashboard on. */
function demoOverrides(
  redis: PrivateRedisServer | undefined,
  emulator: EmulatorHandle,
  httpPort: number,
  password: string,
): Record<string, string | number | boolean> {
  return {
    ...(redis ? { 'redis.url': redis.url } : {}),
    'smq.endpoint': emulator.endpoint,
    'smq.tokenEndpoint': emulator.endpoint,
    'smq.accountId': emulator.accountId,
    'http.port': httpPort,
    'admin.dashboard.enabled': true,
    'admin.dashboard.username': 'demo',
    'admin.dashboard.password': password,
    'log.format': 'pretty',
  };
}

interface BannerFacts {
  readonly url: string;
  readonly config: AppConfig;
  readonly emulator: EmulatorHandle;
  readonly redis: PrivateRedisServer | undefined;
  readonly password: string;
  readonly rate: number;
  readonly duplicateRatio: number;
}

/** What the demo prints once it runs: where everything is. */
function banner(f: BannerFacts): string {
  const { url, emulator } = f;
  const paths = f.config.http.paths;
  const redis = f.redis ? `${f.redis.url} (private, discarded on exit)` : describeTarget(f.config.redis);
  return [
    '',
    'cams-receipts demo is running (Ctrl-C to stop)',
    `  SMQ emulator      ${emulator.endpoint}   (stats: ${emulator.endpoint}/_emulator/stats)`,
    `  Redis             ${redis}`,
    `  HTTP push         ${url}${paths.ChatAppStatus}  ${url}${paths.ChatAppInbound}  ${url}${paths.ChatAppAudit}`,
    `  Dashboard         ${url}/admin   (user demo, password ${f.password})`,
    `  Metrics           ${url}/metrics`,
    `  Health            ${url}/healthz   ${url}/readyz`,
    `  Generating        ${f.rate} receipts/s, ${Math.round(f.duplicateRatio * 100)}% enqueued twice`,
    '',
  ].join('\n');
}
