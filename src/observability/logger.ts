import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../contracts/logger.js';
import { redact, redactText } from './redact.js';

export type { Logger, LogMeta } from '../contracts/logger.js';

export interface LoggerOptions {
  readonly level: string;
  /** `json`: one object per line (journald, PM2); `pretty`: colourised, for development. */
  readonly format: 'json' | 'pretty';
  /** ANSI colours in `pretty` lines. @defaultValue true */
  readonly color?: boolean;
}

/** Removes secrets from every line, whatever the caller passed in. */
const redactFormat = winston.format(info => {
  const clean = redact({ ...info });
  if (typeof clean.message === 'string') clean.message = redactText(clean.message);
  if (info['stack'] && typeof info['stack'] === 'string') clean['stack'] = redactText(info['stack']);
  for (const sym of Object.getOwnPropertySymbols(info)) {
    (clean as Record<symbol, unknown>)[sym] = (info as Record<symbol, unknown>)[sym];
  }
  return clean;
});

export function createLogger(options: LoggerOptions, stream?: NodeJS.WritableStream): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(
          winston.format.errors({ stack: true }),
          redactFormat(),
          winston.format.timestamp(),
          winston.format.json(),
        )
      : winston.format.combine(
          winston.format.errors({ stack: true }),
          redactFormat(),
          ...(options.color === false ? [] : [winston.format.colorize()]),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ level, message, timestamp, ...meta }) => {
            const rest = Object.keys(meta).length > 0 ? ' ' + JSON.stringify(meta) : '';
            return `${String(timestamp)} ${level} ${String(message)}${rest}`;
          }),
        );
  const transport = stream
    ? new winston.transports.Stream({ stream })
    : new winston.transports.Console({ stderrLevels: [] });
  return winston.createLogger({ level: options.level, format, transports: [transport] });
}

/** A logger that writes nowhere; for tests and library use without a configured logger. */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}

/** Waits (half a second at most) until a logger from `createLogger` has written every line: before exit. */
export async function flushLogger(logger: Logger): Promise<void> {
  if (!(logger instanceof Writable)) return;
  await new Promise<void>(resolve => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 500).unref();
  });
}
