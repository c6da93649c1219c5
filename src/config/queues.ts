import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { collect, throwProblems } from './problems.js';
import type { MessageType } from '../receipts/types.js';
import { displayPath, readConfigFile } from './files.js';
import { isPlainObject } from '../util/objects.js';
import { didYouMean } from '../util/did-you-mean.js';
import { FormatError, httpUrl, int, messageType, oneOf, queueName } from './formats.js';
import type { Format } from './formats.js';
import type { ConsumerConfig } from './types.js';

/** What a consumer inherits from `smq.*` unless its queue file overrides it. */
export interface ConsumerDefaults {
  readonly endpoint: string;
  readonly maxInFlight: number;
  readonly waitSeconds: number;
  readonly batchSize: number;
}

const QUEUE_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** The keys a consumer may have, and how each is checked. */
const CONSUMER_KEYS: Record<string, { readonly format: Format; readonly required: boolean }> = {
  messageType: { format: messageType, required: true },
  queueName: { format: queueName, required: true },
  auth: { format: oneOf(['cams', 'static']), required: false },
  endpoint: { format: httpUrl, required: false },
  maxInFlight: { format: int(1, 100_000), required: false },
  waitSeconds: { format: int(0, 30), required: false },
  batchSize: { format: int(1, 16), required: false },
};

/** Endpoints compare without a trailing slash or case differences in the host. */
export function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  try {
    const url = new URL(trimmed);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return trimmed;
  }
}

/** The queue files of a directory, sorted: `*.json`, `*.yaml`, `*.yml`; dotfiles and others (`.sample`) are skipped. */
export function listQueueFiles(queuesDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(queuesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter(name => !name.startsWith('.') && QUEUE_FILE_EXTENSIONS.includes(extname(name).toLowerCase()))
    .map(name => join(queuesDir, name))
    .filter(path => statSync(path).isFile())
    .sort();
}

function parseConsumer(raw: unknown, at: string, shown: string, defaults: ConsumerDefaults): ConsumerConfig {
  const key = (name: string) => (at ? `${at}.${name}` : name);
  if (!isPlainObject(raw)) {
    throw new ConfigError(
      'a consumer must be an object with messageType and queueName',
      shown,
      at || undefined,
    );
  }
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(CONSUMER_KEYS, name)) {
      const allowed = Object.keys(CONSUMER_KEYS).join(', ');
      const hint = didYouMean(name, Object.keys(CONSUMER_KEYS));
      throw new ConfigError(`unknown key (allowed: ${allowed})${hint}`, shown, key(name));
    }
  }
  for (const [name, rule] of Object.entries(CONSUMER_KEYS)) {
    const value = raw[name];
    if (value === undefined) {
      if (rule.required) throw new ConfigError('is required', shown, key(name));
      continue;
    }
    try {
      rule.format(value);
    } catch (err) {
      const reason = err instanceof FormatError ? err.message : String(err);
      throw new ConfigError(`${reason} (got ${JSON.stringify(value)})`, shown, key(name));
    }
  }
  return {
    file: shown,
    messageType: raw['messageType'] as MessageType,
    queueName: raw['queueName'] as string,
    auth: (raw['auth'] as 'cams' | 'static' | undefined) ?? 'cams',
    endpoint: normalizeEndpoint((raw['endpoint'] as string | undefined) ?? defaults.endpoint),
    maxInFlight: (raw['maxInFlight'] as number | undefined) ?? defaults.maxInFlight,
    waitSeconds: (raw['waitSeconds'] as number | undefined) ?? defaults.waitSeconds,
    batchSize: (raw['batchSize'] as number | undefined) ?? defaults.batchSize,
  };
}

/**
 * A file holds one consumer object or an array of them; an empty file declares none. A consumer that does
 * not fit joins `problems`, and the file's other consumers are still read.
 */
function parseQueueFile(
  path: string,
  shown: string,
  defaults: ConsumerDefaults,
  problems: ConfigError[],
): Array<{ consumer: ConsumerConfig; at: string }> {
  const content = readConfigFile(path, shown);
  if (content === undefined || content === null) return [];
  const items = Array.isArray(content)
    ? content.map((raw, i) => ({ raw, at: `[${i}]` }))
    : [{ raw: content, at: '' }];
  const parsed: Array<{ consumer: ConsumerConfig; at: string }> = [];
  for (const { raw, at } of items) {
    collect(problems, () => parsed.push({ consumer: parseConsumer(raw, at, shown, defaults), at }));
  }
  return parsed;
}

/**
 * Loads every consumer declared under `queuesDir`. Throws a `ConfigError` naming the file and the
 * key on an unknown key, a bad value, or a queue (endpoint + queueName) declared twice; every such
 * problem of every file at once.
 */
export function loadQueueFiles(queuesDir: string, defaults: ConsumerDefaults, cwd: string): ConsumerConfig[] {
  const consumers: ConsumerConfig[] = [];
  const problems: ConfigError[] = [];
  const seen = new Map<string, { file: string; key: string }>();
  for (const path of listQueueFiles(queuesDir)) {
    const shown = displayPath(cwd, path);
    const declared = collectFile(problems, () => parseQueueFile(path, shown, defaults, problems));
    for (const { consumer, at } of declared) {
      const id = `${consumer.endpoint}|${consumer.queueName}`;
      const key = at ? `${at}.queueName` : 'queueName';
      const first = seen.get(id);
      if (first) {
        problems.push(
          new ConfigError(
            `queue "${consumer.queueName}" at ${consumer.endpoint} is declared twice: first in ${first.file} (${first.key}), again here`,
            shown,
            key,
          ),
        );
        continue;
      }
      seen.set(id, { file: shown, key });
      consumers.push(consumer);
    }
  }
  throwProblems(problems);
  return consumers;
}

/** A file that cannot be read or parsed at all is one problem; the other files are still read. */
function collectFile<T>(problems: ConfigError[], read: () => T[]): T[] {
  let out: T[] = [];
  collect(problems, () => (out = read()));
  return out;
}
