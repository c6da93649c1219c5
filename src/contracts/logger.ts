/** Structured fields of one log line. */
export type LogMeta = Readonly<Record<string, unknown>>;

/**
 * The logging surface every part of cams-receipts (and every handler, as `ctx.logger`) writes through. The
 * daemon's logger is winston's (see observability/logger.ts), which redacts secrets from every line.
 */
export interface Logger {
  log(level: string, message: string, meta?: LogMeta): unknown;
  error(message: string, meta?: LogMeta): unknown;
  warn(message: string, meta?: LogMeta): unknown;
  info(message: string, meta?: LogMeta): unknown;
  debug(message: string, meta?: LogMeta): unknown;
  isDebugEnabled(): boolean;
  /** A logger that adds `meta` to every line. */
  child(meta: LogMeta): Logger;
}
