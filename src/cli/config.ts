import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/types.js';
import { redactedMessage } from '../observability/redact.js';
import { writeLine, type CliIo } from './io.js';

/** Loads the configuration as `start` does, or prints why not and returns undefined. */
export function loadCommandConfig(io: CliIo, configDir: string | undefined): AppConfig | undefined {
  try {
    return loadConfig({ cwd: io.cwd, env: io.env, configDir });
  } catch (err) {
    writeLine(io.stderr, `invalid configuration: ${redactedMessage(err)}`);
    return undefined;
  }
}
