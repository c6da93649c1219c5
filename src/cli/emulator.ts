import { parseArgs } from 'node:util';
import { wantsColor, writeLine, type Command } from './io.js';
import { createLogger } from '../observability/logger.js';
import { startEmulator, type EmulatorHandle } from '../emulator/index.js';
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCESS_KEY_SECRET,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type EmulatorOptions,
} from '../emulator/options.js';
import { errorMessage } from '../util/error-message.js';
import { untilAborted } from '../util/async.js';

const USAGE = `Usage: cams-receipts emulator [options]

Runs a local SMQ (MNS REST API 2015-06-06) and Dybaseapi QueryTokenForMnsQueue emulator on one port.

Options:
  --port N                   Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host HOST                Address to bind (default ${DEFAULT_HOST})
  --access-key-id ID         AccessKey id accepted for signatures (default ${DEFAULT_ACCESS_KEY_ID})
  --access-key-secret SECRET Its secret (default ${DEFAULT_ACCESS_KEY_SECRET})
  --queue TYPE=NAME          Declare a MessageType=QueueName pair; repeatable
                             (default: the three CAMS types as Alicom-Queue-1234567890123456-<Type>)
  --visibility-timeout S     VisibilityTimeout of new queues, seconds (default 30)
  --token-ttl S              Lifetime of issued STS tokens, seconds (default 600)
  --rate N                   Generated receipts per second across the queues (default 0, off)
  --duplicate-ratio R        Share of generated receipts enqueued twice, 0..1 (default 0)
  --account-id ID            Account id to report (default 1943695596114318)
  --log-level LEVEL          error, warn, info or debug (default info)
  -h, --help                 Show this help

Control API (JSON, unauthenticated): GET /_emulator/stats, POST /_emulator/inject,
PUT|PATCH /_emulator/faults, POST /_emulator/tokens/expire, POST /_emulator/reset, ...`;

class UsageError extends Error {}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} must be a number, got "${text}"`);
  return value;
}

function parseQueues(specs: readonly string[] | undefined): EmulatorOptions['queues'] {
  if (!specs || specs.length === 0) return undefined;
  return specs.map(spec => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1)
      throw new UsageError(`--queue must look like TYPE=NAME, got "${spec}"`);
    return { messageType: spec.slice(0, eq), queueName: spec.slice(eq + 1) };
  });
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'access-key-id': { type: 'string' },
  'access-key-secret': { type: 'string' },
  queue: { type: 'string', multiple: true },
  'visibility-timeout': { type: 'string' },
  'token-ttl': { type: 'string' },
  rate: { type: 'string' },
  'duplicate-ratio': { type: 'string' },
  'account-id': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseOptions(args: readonly string[]): EmulatorOptions & { help: boolean; logLevel: string } {
  const { values } = parseArgs({ args: [...args], strict: true, allowPositionals: false, options: OPTIONS });
  const id = values['access-key-id'];
  const secret = values['access-key-secret'];
  if ((id === undefined) !== (secret === undefined)) {
    throw new UsageError('--access-key-id and --access-key-secret go together');
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel)) {
    throw new UsageError('--log-level must be error, warn, info or debug');
  }
  const port = number('port', values.port) ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  return {
    help: values.help ?? false,
    logLevel,
    port,
    host: values.host ?? DEFAULT_HOST,
    accessKeys:
      id !== undefined && secret !== undefined ? [{ accessKeyId: id, accessKeySecret: secret }] : undefined,
    queues: parseQueues(values.queue),
    visibilityTimeoutSeconds: number('visibility-timeout', values['visibility-timeout']),
    tokenTtlSeconds: number('token-ttl', values['token-ttl']),
    ratePerSecond: number('rate', values.rate),
    duplicateRatio: number('duplicate-ratio', values['duplicate-ratio']),
    accountId: values['account-id'],
  };
}

/** `cams-receipts emulator`: runs until io.shutdown aborts (SIGINT/SIGTERM), then closes and returns 0. */
export const emulatorCommand: Command = async (args, io) => {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(args);
  } catch (err) {
    writeLine(io.stderr, `cams-receipts emulator: ${errorMessage(err)}\n`);
    writeLine(io.stderr, USAGE);
    return 2;
  }
  if (options.help) {
    writeLine(io.stdout, USAGE);
    return 0;
  }
  const logger = createLogger(
    { level: options.logLevel, format: 'pretty', color: wantsColor(io, io.stderr) },
    io.stderr,
  );
  let emulator;
  try {
    emulator = await startEmulator({ ...options, logger });
  } catch (err) {
    writeLine(io.stderr, `cams-receipts emulator: ${errorMessage(err)}`);
    return 1;
  }
  writeLine(io.stdout, banner(emulator));
  io.notifyReady();

  await untilAborted(io.shutdown);
  writeLine(io.stdout, 'stopping emulator');
  await emulator.close();
  return 0;
};

/** Where the emulator listens and what it serves. */
function banner(emulator: EmulatorHandle): string {
  const rate = emulator.configureGenerator({});
  return [
    `SMQ emulator listening on ${emulator.endpoint}`,
    `  MNS endpoint and token endpoint: ${emulator.endpoint}`,
    `  account id:   ${emulator.accountId}`,
    // A local test key, printed on purpose so clients can be pointed at the emulator.
    `  AccessKey:    ${emulator.accessKeyId} / ${emulator.accessKeySecret}`,
    `  queues:`,
    ...emulator.declarations().map(d => `    ${d.messageType}=${d.queueName}`),
    `  generator:    ${rate.ratePerSecond} receipts/s, duplicate ratio ${rate.duplicateRatio}`,
    `  stats:        ${emulator.endpoint}/_emulator/stats`,
    'Press Ctrl-C to stop.',
  ].join('\n');
}
