import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact-config.js';
import type { AppConfig } from '../config/types.js';
import { configWarnings } from '../config/warnings.js';
import { CamsError, ConfigError } from '../errors.js';
import { redactText } from '../observability/redact.js';
import { writeLine } from './io.js';
import type { Command } from './io.js';

const USAGE = `Usage: cams-receipts check-config [--config <dir>] [--json]

Loads the configuration exactly as "start" would (<dir>/default.json, <dir>/<NODE_ENV>.json,
environment variables, <dir>/queues/*), validates it, and prints the effective configuration
with secrets redacted.

Options:
  --config <dir>  configuration directory (default: ./config)
  --json          print one JSON object: {"ok":true,"config":…,"warnings":[…]}
  -h, --help      show this help

Exit codes: 0 valid, 1 invalid configuration, 2 usage error.`;

function consumerSummary(config: AppConfig): string {
  const { consumers } = config;
  if (consumers.length === 0) return 'consumers: none (no queue files in queues/)';
  const list = consumers.map(c => `${c.messageType} ${c.queueName} (${c.auth}, ${c.endpoint})`);
  return `consumers: ${consumers.length}: ${list.join('; ')}`;
}

function errorDetails(err: unknown): { code: string; message: string; file?: string; key?: string } {
  const message = redactText(err instanceof Error ? err.message : String(err));
  const code = err instanceof CamsError ? err.code : 'ERROR';
  if (!(err instanceof ConfigError)) return { code, message };
  return { code, message, ...(err.file ? { file: err.file } : {}), ...(err.key ? { key: err.key } : {}) };
}

/** `cams-receipts check-config`: validates the configuration and prints it, secrets redacted. */
export const checkConfigCommand: Command = async (args, io) => {
  let values: { config?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    writeLine(io.stderr, `check-config: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return 0;
  }
  let config: AppConfig;
  try {
    config = loadConfig({ cwd: io.cwd, env: io.env, configDir: values.config });
  } catch (err) {
    const details = errorDetails(err);
    writeLine(io.stderr, `invalid configuration: ${details.message}`);
    if (values.json) writeLine(io.stdout, JSON.stringify({ ok: false, error: details }));
    return 1;
  }
  const warnings = configWarnings(config);
  if (values.json) {
    writeLine(io.stdout, JSON.stringify({ ok: true, config: redactConfig(config), warnings }));
    return 0;
  }
  writeLine(io.stdout, JSON.stringify(redactConfig(config), null, 2));
  writeLine(io.stdout, consumerSummary(config));
  for (const warning of warnings) writeLine(io.stderr, `warning: ${warning}`);
  return 0;
};
