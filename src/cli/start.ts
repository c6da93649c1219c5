import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { configWarnings } from '../config/warnings.js';
import { accountCredentials, type AccountCredentials } from '../credentials/account.js';
import { Daemon } from '../daemon.js';
import { CamsError } from '../errors.js';
import { createLogger, flushLogger, type Logger } from '../observability/logger.js';
import { wantsColor, writeLine, type CliIo, type Command } from './io.js';
import { errorMessage } from '../util/error-message.js';
import { untilAborted } from '../util/async.js';

const HELP = `Usage: cams-receipts start [--config <dir>] [--role all|poller|worker]

Runs the daemon: one long-polling loop per queue declared in <dir>/queues/, the HTTP push receiver
when http.port is set, and the BullMQ workers that run the handlers.

Options:
  --config <dir>   Configuration directory (default: $CAMS_CONFIG_DIR, else ./config)
  --role <role>    all (default): poll and process; poller: poll and enqueue only;
                   worker: run handlers only
  -h, --help       Show this help

Signals: SIGTERM/SIGINT drain and stop (a second one exits at once); SIGHUP reloads queues and handlers.`;

export const startCommand: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        role: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    writeLine(io.stderr, `${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  const overrides: Record<string, string> = {};
  if (parsed.values.role) overrides['role'] = parsed.values.role;
  return run(io, parsed.values.config, overrides);
};

async function run(
  io: CliIo,
  configDir: string | undefined,
  overrides: Record<string, string>,
): Promise<number> {
  let config;
  try {
    config = loadConfig({ cwd: io.cwd, env: io.env, configDir, overrides });
  } catch (err) {
    writeLine(io.stderr, `cams-receipts: ${errorMessage(err)}`);
    return 1;
  }
  const logger = createLogger({ ...config.log, color: wantsColor(io, io.stdout) });
  for (const warning of configWarnings(config)) logger.warn(warning, { event: 'config_warning' });
  const account = accountCredentials({ credentials: config.credentials, env: io.env, logger });
  if (config.role !== 'worker' && config.consumers.length > 0 && !(await resolved(account, io))) {
    await flushLogger(logger);
    return 1;
  }
  const daemon = new Daemon({ config, logger, account });
  const started = await startDaemon(daemon, io, logger);
  if (started !== undefined) return started;
  io.onReload(() => {
    void reload(io, daemon, logger, configDir, overrides);
  });
  io.notifyReady();
  await untilAborted(io.shutdown);
  await daemon.stop();
  await flushLogger(logger);
  return 0;
}

/** Starts the daemon; undefined once it runs, or the exit code when it did not start (stopped again). */
async function startDaemon(daemon: Daemon, io: CliIo, logger: Logger): Promise<number | undefined> {
  try {
    await daemon.start(io.shutdown);
    return undefined;
  } catch (err) {
    if (io.shutdown.aborted) {
      // A SIGTERM while waiting for Redis: a requested stop, not a failure.
      logger.info('stopped before startup completed', { event: 'startup_aborted' });
    } else {
      const code = err instanceof CamsError ? ` (${err.code})` : '';
      logger.error(`startup failed${code}: ${errorMessage(err)}`, { event: 'startup_failed' });
    }
    await daemon.stop().catch(() => undefined);
    await flushLogger(logger);
    return io.shutdown.aborted ? 0 : 1;
  }
}

/** Pollers need an account credential: without one, refuse to start and say why. */
async function resolved(account: AccountCredentials, io: CliIo): Promise<boolean> {
  try {
    await account.get();
    return true;
  } catch (err) {
    writeLine(
      io.stderr,
      `cams-receipts: SMQ consumers are declared but no account credential was found (docs/credentials.md): ${errorMessage(err)}`,
    );
    return false;
  }
}

/** SIGHUP: re-read the configuration; an invalid one is rejected and the running one stays in force. */
async function reload(
  io: CliIo,
  daemon: Daemon,
  logger: Logger,
  configDir: string | undefined,
  overrides: Readonly<Record<string, string>>,
): Promise<void> {
  logger.info('reloading configuration', { event: 'config_reloading' });
  try {
    const next = loadConfig({ cwd: io.cwd, env: io.env, configDir, overrides });
    const result = await daemon.reload(next);
    if (result.restartNeeded.length > 0) {
      logger.warn(`these settings changed but need a restart: ${result.restartNeeded.join(', ')}`, {
        event: 'config_restart_needed',
      });
    }
  } catch (err) {
    logger.error(`reload rejected, the running configuration stays in force: ${errorMessage(err)}`, {
      event: 'config_reload_rejected',
    });
  }
}
