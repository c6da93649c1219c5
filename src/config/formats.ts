import { isIP } from 'node:net';
import { MESSAGE_TYPES } from '../receipts/types.js';
import { didYouMean } from '../util/did-you-mean.js';
import { handlerEntryProblem } from './handler-entry.js';

/** Validates one configuration value; throws a `FormatError` (or any Error) saying what is wrong. */
export type Format = (value: unknown) => void;

/** A failed format check. `subKey` narrows the key inside a structured value (`[1].module`). */
export class FormatError extends Error {
  constructor(
    message: string,
    readonly subKey = '',
  ) {
    super(message);
  }
}

function fail(message: string, subKey?: string): never {
  throw new FormatError(message, subKey);
}

export function int(min: number, max = Number.MAX_SAFE_INTEGER): Format {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return value => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(`must be an integer ${range}`);
    }
  };
}

export const port: Format = int(0, 65535);

export const bool: Format = value => {
  if (typeof value !== 'boolean') fail('must be true or false');
};

/** `true`/`false`, or a hop count. */
export const boolOrHops: Format = value => {
  if (typeof value === 'boolean') return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 32) {
    fail('must be true, false, or a number of proxy hops from 0 to 32');
  }
};

export function oneOf(values: readonly string[]): Format {
  return value => {
    if (typeof value !== 'string' || !values.includes(value)) {
      fail(
        `must be one of ${values.join(', ')}${typeof value === 'string' ? didYouMean(value, values) : ''}`,
      );
    }
  };
}

/** Any string; `pattern` restricts it, `hint` says what the pattern means. */
export function str(pattern?: RegExp, hint?: string): Format {
  return value => {
    if (typeof value !== 'string') fail('must be a string');
    if (pattern && !pattern.test(value)) fail(`must be ${hint ?? `a string matching ${String(pattern)}`}`);
  };
}

export function url(protocols: readonly string[]): Format {
  const names = protocols.map(p => `${p}//`).join(' or ');
  return value => {
    if (typeof value !== 'string') fail('must be a string');
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return fail(`must be a URL starting with ${names}`);
    }
    if (!protocols.includes(parsed.protocol)) fail(`must be a URL starting with ${names}`);
  };
}

export const httpUrl: Format = url(['http:', 'https:']);
export const redisUrl: Format = url(['redis:', 'rediss:']);

/** BullMQ prefix: a `{tag}` keeps every key of a queue in one Redis Cluster slot. */
export const redisPrefix: Format = value => {
  if (typeof value !== 'string') fail('must be a string');
  if (!/\{[^{}\s]+\}/.test(value))
    fail('must contain a {hash-tag}, e.g. "{cams}", so Redis Cluster keeps a queue in one slot');
  if (/\s/.test(value) || value.endsWith(':')) fail('must not contain spaces or end with ":"');
};

/** `host:port` (an IPv6 host in brackets, `[::1]:7000`), with a port from 1 to 65535. */
export function isHostPort(entry: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry);
  if (!match) return false;
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  const bracketed = (match[1] ?? '').startsWith('[');
  if (bracketed && isIP(host) !== 6) return false;
  const portNumber = Number(match[2]);
  return portNumber >= 1 && portNumber <= 65535;
}

/** Redis nodes as `host:port` entries: an array in a file, comma-separated in an environment variable. */
export const hostPortList: Format = value => {
  if (!Array.isArray(value))
    fail('must be an array of "host:port" strings (comma-separated in the environment)');
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || !isHostPort(entry)) {
      fail('must be "host:port", such as "10.0.0.5:6379" or "[fd00::5]:6379"', `[${i}]`);
    }
  });
};

/** A path such as `/inbound`: one or more plain segments. */
export const httpPath: Format = str(
  /^(\/[A-Za-z0-9._~-]+)+$/,
  'a path like "/inbound" (letters, digits, . _ ~ -)',
);

/** A push path, or `''` for a type whose push receiver is off. */
export const httpPathOrOff: Format = str(
  /^((\/[A-Za-z0-9._~-]+)+)?$/,
  'empty (off) or a path like "/smsreport" (letters, digits, . _ ~ -)',
);

export const httpSecret: Format = value => {
  if (typeof value !== 'string') fail('must be a string');
  if (value === '') return;
  if (!/^[A-Za-z0-9._~-]{16,}$/.test(value)) {
    fail('must be empty, or at least 16 URL-safe characters (letters, digits, . _ ~ -)');
  }
};

function isCidrOrIp(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export const ipAllowlist: Format = value => {
  if (!Array.isArray(value)) fail('must be an array of IP addresses or CIDRs');
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || !isCidrOrIp(entry)) {
      fail('must be an IP address or CIDR such as "10.0.0.0/8"', `[${i}]`);
    }
  });
};

/** `"log"`, `{ "name": "forward", "options": {…} }`, or `{ "module": "./handlers/x.js", "options": {…} }`. */
export const handlerList: Format = value => {
  if (!Array.isArray(value))
    fail(
      'must be an array of handler names, { "name": …, "options": … } or { "module": …, "options": … } objects',
    );
  value.forEach((entry: unknown, i) => {
    const problem = handlerEntryProblem(entry);
    if (problem) fail(problem.message, `[${i}]${problem.subKey}`);
  });
};

export const messageType: Format = oneOf(MESSAGE_TYPES);

/** SMQ queue names: letters, digits and `-`, starting with a letter or digit. */
export const queueName: Format = str(
  /^[A-Za-z0-9][A-Za-z0-9-]{0,255}$/,
  'an SMQ queue name (letters, digits and "-", as copied from the CAMS console)',
);
