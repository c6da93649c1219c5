/**
 * The few named errors cams-receipts raises. Each carries a stable `code` (documented in the README,
 * kept in sync by test/errors.test.ts); never reuse a retired code.
 */
export abstract class CamsError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid configuration. `file` and `key` name where the problem is. */
export class ConfigError extends CamsError {
  readonly code = 'CAMS_ERR_CONFIG';
  constructor(
    message: string,
    readonly file?: string,
    readonly key?: string,
    options?: { cause?: unknown },
  ) {
    super([file, key].filter(Boolean).join(': ') + (file || key ? ': ' : '') + message, options);
  }
}

/** A handler module could not be loaded or has the wrong shape. */
export class HandlerLoadError extends CamsError {
  readonly code = 'CAMS_ERR_HANDLER_LOAD';
  constructor(
    message: string,
    readonly module?: string,
    options?: { cause?: unknown },
  ) {
    super(module ? `${module}: ${message}` : message, options);
  }
}

/** Thrown by a handler to dead-letter a receipt at once, without further attempts. */
export class PermanentError extends CamsError {
  readonly code = 'CAMS_ERR_PERMANENT';
}

/** A message body or pushed item that is not a receipt; it is parked in the dead-letter store. */
export class DecodeError extends CamsError {
  readonly code = 'CAMS_ERR_DECODE';
}

/** How the consumer loop reacts to an SMQ failure. */
export type SmqErrorClass =
  'empty' | 'throttled' | 'auth' | 'queue_missing' | 'network' | 'server' | 'client';

/** A failed SMQ call, classified for the consumer loop's backoff. */
export class SmqError extends CamsError {
  readonly code = 'CAMS_ERR_SMQ';
  constructor(
    message: string,
    readonly errorClass: SmqErrorClass,
    readonly smqCode?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** QueryTokenForMnsQueue failed. */
export class TokenError extends CamsError {
  readonly code = 'CAMS_ERR_TOKEN';
  constructor(
    message: string,
    readonly errorClass: SmqErrorClass,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Redis did not acknowledge a write; the receipt stays with its source (SMQ or the HTTP caller). */
export class StoreError extends CamsError {
  readonly code = 'CAMS_ERR_STORE';
}

export const ERROR_CODES = [
  'CAMS_ERR_CONFIG',
  'CAMS_ERR_HANDLER_LOAD',
  'CAMS_ERR_PERMANENT',
  'CAMS_ERR_DECODE',
  'CAMS_ERR_SMQ',
  'CAMS_ERR_TOKEN',
  'CAMS_ERR_STORE',
] as const;
