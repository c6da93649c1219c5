// PM2 process file for cams-receipts.
//
//   npm i cams-receipts
//   pm2 start ecosystem.config.js        # NODE_ENV=production; --env development for pretty logs
//   pm2 save && pm2 startup            # start again at boot
//
//   pm2 sendSignal SIGHUP cams-receipts   # hot reload: queue files and handlers, no restart
//   pm2 reload cams-receipts              # graceful restart (drain, then start; waits for "ready")
//   pm2 stop cams-receipts                # SIGINT: stop polling, drain in-flight jobs, exit 0
//
// The package is an ES module, so this file is one too. PM2 loads it with require(), which reads
// ES modules on Node >= 20.19 (and 22.12): PM2 looks for the `apps` named export.
import { fileURLToPath } from 'node:url';

/** This directory: the apps run from here whatever directory pm2 is started in. */
const root = fileURLToPath(new URL('.', import.meta.url));

/** The configuration directory, relative to this one; CAMS_CONFIG_DIR (read at `pm2 start`) overrides it. */
const configDir = process.env.CAMS_CONFIG_DIR || './config';

/**
 * Above `shutdown.drainTimeoutMs` (default 25000) plus the time to flush SMQ deletes and close Redis.
 * PM2 sends SIGINT, waits this long, then SIGKILLs; raise both together.
 */
const KILL_TIMEOUT_MS = 30_000;

/**
 * Node flags for the daemon (the systemd unit passes the same ones). A heap cap: left alone on a large
 * host, V8 lets garbage pile up to hundreds of MB before it collects; the daemon's live heap is about
 * 30 MB at the default maxInFlight. Raise the cap if your handler modules keep more in memory.
 */
export const NODE_ARGS = ['--max-old-space-size=192'];

/** Settings every role shares. */
const common = {
  cwd: root,
  script: 'bin/cams-receipts.js',
  exec_mode: 'fork',
  node_args: NODE_ARGS,
  instances: 1,
  autorestart: true,
  // Restart with a growing delay (up to 15 s) when the daemon keeps failing at startup.
  exp_backoff_restart_delay: 200,
  kill_timeout: KILL_TIMEOUT_MS,
  // The daemon calls process.send('ready') once its loops and workers run; a start or reload that
  // does not get there within listen_timeout counts as failed.
  wait_ready: true,
  listen_timeout: 20_000,
  max_memory_restart: '512M',
  // One log file per app, not per instance. The daemon writes one JSON object per line with its own
  // timestamp, so PM2 adds none (a prefix would break the JSON lines); use pm2-logrotate to rotate.
  merge_logs: true,
  time: false,
  // Production unless asked otherwise: JSON log lines, the production.json layer.
  env: {
    NODE_ENV: 'production',
  },
  env_development: {
    NODE_ENV: 'development',
  },
};

export const apps = [
  {
    ...common,
    name: 'cams-receipts',
    args: ['start', '--config', configDir],
  },

  // Split roles: pollers (SMQ loops and the HTTP receiver) and workers (handlers) as separate apps,
  // here or on other hosts sharing the same Redis. Comment out the app above and use these instead.
  // Deletion from SMQ still waits for processing: completions reach the poller through BullMQ.
  //
  // {
  //   ...common,
  //   name: 'cams-receipts-poller',
  //   args: ['start', '--config', configDir, '--role', 'poller'],
  // },
  // {
  //   ...common,
  //   name: 'cams-receipts-worker',
  //   args: ['start', '--config', configDir, '--role', 'worker'],
  //   // Workers hold no SMQ leases; scale them freely.
  //   instances: 2,
  // },
];

export default { apps };
