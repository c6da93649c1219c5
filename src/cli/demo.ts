import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { Daemon } from '../daemon.js';
import { PrivateRedisServer, REDIS_INSTALL_HINT, freePort } from '../local/private-redis.js';
import { startEmulator } from '../emulator/index.js';
import { createLogger } from '../observability/logger.js';
import { describeTarget } from '../redis/options.js';
import { writeLine, type CliIo, type Command } from './io.js';
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
  let redis: PrivateRedisServer | undefined;
  const redisEnv = redisEnvironment(io.env);
  const given = ['REDIS_URL', 'CAMS_REDIS_CLUSTER_NODES', 'CAMS_REDIS_SENTINELS'].some(
    name => redisEnv[name],
  );
  if (!given) {
    if (!PrivateRedisServer.isInstalled()) {
      writeLine(
        io.stderr,
        `The demo needs a redis-server binary. Install it with:\n\n  ${REDIS_INSTALL_HINT}\n`,
      );
      return 1;
    }
    // Its own process group: a Ctrl-C meant for the demo must not kill Redis before the daemon drains.
    redis = await PrivateRedisServer.start({ ownProcessGroup: true });
  }
  const emulator = await startEmulator({ port: 0, ratePerSecond: rate, duplicateRatio });
  const password = randomBytes(9).toString('base64url');
  const config = loadConfig({
    cwd: io.cwd,
    env: { ...redisEnv, NODE_ENV: 'development' },
    configDir: EMULATOR_CONFIG,
    overrides: {
      ...(redis ? { 'redis.url': redis.url } : {}),
      'smq.endpoint': emulator.endpoint,
      'smq.tokenEndpoint': emulator.endpoint,
      'smq.accountId': emulator.accountId,
      'http.port': httpPort ?? (await freePort()),
      'admin.dashboard.enabled': true,
      'admin.dashboard.username': 'demo',
      'admin.dashboard.password': password,
      'log.format': 'pretty',
    },
  });
  const logger = createLogger(config.log);
  const daemon = new Daemon({ config, logger });
  try {
    await daemon.start();
    const url = daemon.url ?? '';
    writeLine(
      io.stdout,
      [
        '',
        'cams-receipts demo is running (Ctrl-C to stop)',
        `  SMQ emulator      ${emulator.endpoint}   (stats: ${emulator.endpoint}/_emulator/stats)`,
        `  Redis             ${redis ? `${redis.url} (private, discarded on exit)` : describeTarget(config.redis)}`,
        `  HTTP push         ${url}${config.http.paths.ChatAppStatus}  ${url}${config.http.paths.ChatAppInbound}  ${url}${config.http.paths.ChatAppAudit}`,
        `  Dashboard         ${url}/admin   (user demo, password ${password})`,
        `  Metrics           ${url}/metrics`,
        `  Health            ${url}/healthz   ${url}/readyz`,
        `  Generating        ${rate} receipts/s, ${Math.round(duplicateRatio * 100)}% enqueued twice`,
        '',
      ].join('\n'),
    );
    io.notifyReady();
    await new Promise<void>(resolve => {
      if (io.shutdown.aborted) resolve();
      else io.shutdown.addEventListener('abort', () => resolve(), { once: true });
    });
    writeLine(io.stdout, 'stopping…');
    return 0;
  } catch (err) {
    writeLine(io.stderr, `demo failed to start: ${errorMessage(err)}`);
    return 1;
  } finally {
    await daemon.stop().catch(() => undefined);
    await emulator.close();
    await redis?.destroy();
  }
}
