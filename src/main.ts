#!/usr/bin/env node
// The process entry point: the only module that touches `process` (argv, env, signals, exit codes).
import type { CliIo, Command } from './cli/io.js';
import { notifySystemdReady } from './cli/sd-notify.js';
import { packageVersion } from './util/version.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./cli/start.js')).startCommand,
  demo: async () => (await import('./cli/demo.js')).demoCommand,
  emulator: async () => (await import('./cli/emulator.js')).emulatorCommand,
  'check-config': async () => (await import('./cli/check-config.js')).checkConfigCommand,
  dlq: async () => (await import('./cli/dlq.js')).dlqCommand,
  stats: async () => (await import('./cli/stats.js')).statsCommand,
};

const USAGE = `Usage: cams-receipts <command> [options]

Commands:
  start          Run the daemon (SMQ consumer loops, HTTP push receiver, handler workers)
  demo           Run Redis, the emulator and the daemon together, to watch receipts flow
  emulator       Run the local SMQ + QueryTokenForMnsQueue emulator
  check-config   Validate the configuration and print it with secrets redacted
  dlq            List, show, replay or purge dead-lettered receipts
  stats          Show per-type job counts, the dead-letter count and SMQ queue attributes

Options:
  -v, --version  Print the version

Run "cams-receipts <command> --help" for a command's options.`;

function buildIo(): CliIo {
  const shutdown = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`received ${sig} again, exiting now\n`);
      process.exit(130);
    }
    shutdown.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    shutdown: shutdown.signal,
    onReload: listener => process.on('SIGHUP', listener),
    notifyReady: () => {
      process.send?.('ready');
      void notifySystemdReady(process.env, process.pid).then(problem => {
        if (problem) process.stderr.write(`cams-receipts: telling systemd it is ready failed: ${problem}\n`);
      });
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`cams-receipts ${packageVersion()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  const command = await load();
  return command(args, buildIo());
}

process.on('unhandledRejection', reason => {
  process.stderr.write(
    `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
  );
});

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
    // Give stdout a tick to flush, then leave even if a stray handle is still open.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
