import { ConfigError } from '../errors.js';
import { collect } from './problems.js';
import { FormatError } from './formats.js';
import { configSchemaDocs, schemaNode } from './schema.js';
import type { SchemaLeaf } from './schema.js';
import { errorMessage } from '../util/error-message.js';

// Raw values, from files, the environment and the command line: typed by their key, checked against its
// format, and shown in error messages without secrets.

/** Where a value came from, for error messages: a file, `environment variable X`, or the command line. */
export type Sources = Map<string, string>;

export const OVERRIDE_SOURCE = 'command-line option';
export const SET_NODE_ENV = 'cannot be set here; set the NODE_ENV environment variable instead';

export function leafByKey(key: string): SchemaLeaf | undefined {
  return configSchemaDocs().find(leaf => leaf.key === key);
}

/** A redis URL with its password hidden, for messages and dumps. */
export function maskUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = 'REDACTED';
    return url.toString();
  } catch {
    return value;
  }
}

export function describe(leaf: SchemaLeaf, value: unknown): string {
  if (leaf.sensitive) return '';
  const shown = typeof value === 'string' && leaf.key === 'redis.url' ? maskUrlPassword(value) : value;
  const text = JSON.stringify(shown) ?? String(shown);
  return ` (got ${text.length > 80 ? text.slice(0, 77) + '...' : text})`;
}

export function checkValue(leaf: SchemaLeaf, value: unknown, source: string | undefined): void {
  try {
    leaf.format(value);
  } catch (err) {
    const sub = err instanceof FormatError ? err.subKey : '';
    const reason = errorMessage(err);
    throw new ConfigError(reason + (sub ? '' : describe(leaf, value)), source, leaf.key + sub, {
      cause: err,
    });
  }
}

/**
 * Environment variables the schema reads; empty ones count as unset (systemd `EnvironmentFile` habit). A
 * variable that does not fit its key joins `problems`, beside the others.
 */
export function schemaEnv(
  env: Readonly<Record<string, string | undefined>>,
  sources: Sources,
  problems: ConfigError[],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const leaf of configSchemaDocs()) {
    const raw = leaf.env ? env[leaf.env] : undefined;
    if (!leaf.env || raw === undefined || raw === '') continue;
    const source = `environment variable ${leaf.env}`;
    const name = leaf.env;
    if (collect(problems, () => (out[name] = envValue(leaf, raw, source)))) sources.set(leaf.key, source);
  }
  return out;
}

/**
 * An environment string typed by its key: convict would read a list as JSON and any word but "false" as
 * true, so lists are split on commas and booleans must say true or false.
 */
function envValue(leaf: SchemaLeaf, raw: string, source: string): string | string[] {
  if (typeof leaf.default === 'number' && !/^-?\d+(\.\d+)?$/.test(raw.trim())) {
    throw new ConfigError(`must be a number${describe(leaf, raw)}`, source, leaf.key);
  }
  if (typeof leaf.default === 'boolean' && !/^(true|false)$/i.test(raw.trim())) {
    throw new ConfigError(`must be true or false${describe(leaf, raw)}`, source, leaf.key);
  }
  if (typeof leaf.default === 'boolean') return raw.trim().toLowerCase();
  // convict takes a non-string environment value as it is.
  if (Array.isArray(leaf.default))
    return raw
      .split(',')
      .map(item => item.trim())
      .filter(Boolean);
  return raw;
}

/** Typed values for the overrides; strings (from argv) are converted by the key's type. */
export function overrideValues(
  overrides: Readonly<Record<string, unknown>> | undefined,
  sources: Sources,
): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [key, raw] of Object.entries(overrides ?? {})) {
    if (raw === undefined) continue;
    if (key === 'env') throw new ConfigError(SET_NODE_ENV, OVERRIDE_SOURCE, key);
    const leaf = schemaNode(key) === 'leaf' ? leafByKey(key) : undefined;
    if (!leaf) throw new ConfigError('unknown key', OVERRIDE_SOURCE, key);
    let value = raw;
    if (typeof raw === 'string' && typeof leaf.default === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) {
        throw new ConfigError(`must be a number${describe(leaf, raw)}`, OVERRIDE_SOURCE, key);
      }
      value = Number(raw);
    } else if (typeof raw === 'string' && typeof leaf.default === 'boolean') {
      // A digit string is passed on as a number, for the keys that accept one (http.trustProxy).
      const hops = /^\d+$/.test(raw);
      if (raw !== 'true' && raw !== 'false' && !hops) {
        throw new ConfigError('must be true or false', OVERRIDE_SOURCE, key);
      }
      value = hops ? Number(raw) : raw === 'true';
    }
    checkValue(leaf, value, OVERRIDE_SOURCE);
    sources.set(key, OVERRIDE_SOURCE);
    out.push([key, value]);
  }
  return out;
}
