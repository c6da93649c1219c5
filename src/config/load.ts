import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import convict from 'convict';
import { ConfigError } from '../errors.js';
import { displayPath, readConfigFile } from './files.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isPlainObject } from '../util/objects.js';
import {
  SET_NODE_ENV,
  checkValue,
  leafByKey,
  overrideValues,
  schemaEnv,
  type Sources,
} from './raw-values.js';
import { collect, throwProblems } from './problems.js';
import { loadQueueFiles, normalizeEndpoint } from './queues.js';
import { checkRedisRelations } from './redis-checks.js';
import { checkRelations } from './relations.js';
import { configSchema, configSchemaDocs, schemaNode } from './schema.js';
import type { ConfigProperties, SchemaLeaf } from './schema.js';
import type { AppConfig } from './types.js';

export interface LoadConfigOptions {
  /** The working directory `configDir` is resolved against. */
  readonly cwd: string;
  /** The environment variables to read (the loader never reads `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Default `CAMS_CONFIG_DIR` from `env`, else `./config`. A directory given explicitly (or through
   * `CAMS_CONFIG_DIR`) must exist; the default one may be missing.
   */
  readonly configDir?: string;
  /** Dotted keys set last, above every other layer, e.g. `{ role: 'worker' }` from `--role`. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/**
 * Checks one file layer against the schema: unknown keys, wrong shapes and bad values name the file. Each
 * problem is collected in `problems` rather than thrown, so one run reports them all.
 */
function checkFileLayer(
  data: Record<string, unknown>,
  prefix: string,
  shown: string,
  sources: Sources,
  problems: ConfigError[],
): void {
  for (const [name, value] of Object.entries(data)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const node = schemaNode(key);
    if (key === 'env') problems.push(new ConfigError(SET_NODE_ENV, shown, key));
    else if (node === undefined)
      problems.push(new ConfigError(`unknown key${didYouMean(key, schemaKeys())}`, shown, key));
    else if (node === 'group' && !isPlainObject(value))
      problems.push(new ConfigError('must be an object', shown, key));
    else if (node === 'group')
      checkFileLayer(value as Record<string, unknown>, key, shown, sources, problems);
    else if (collect(problems, () => checkValue(leafByKey(key) as SchemaLeaf, value, shown)))
      sources.set(key, shown);
  }
}

/** Every dotted key of the schema, leaves and groups: what a misspelt key may have meant. */
function schemaKeys(): string[] {
  const keys = new Set<string>();
  for (const leaf of configSchemaDocs()) {
    const parts = leaf.key.split('.');
    for (let i = 1; i <= parts.length; i++) keys.add(parts.slice(0, i).join('.'));
  }
  return [...keys];
}

interface FileLayer {
  readonly shown: string;
  readonly data: Record<string, unknown>;
}

function readLayer(
  path: string,
  shown: string,
  sources: Sources,
  problems: ConfigError[],
): FileLayer | undefined {
  if (!existsSync(path)) return undefined;
  const data = readConfigFile(path, shown);
  if (data === undefined || data === null) return undefined;
  if (!isPlainObject(data)) throw new ConfigError('must hold a JSON object', shown);
  checkFileLayer(data, '', shown, sources, problems);
  return { shown, data };
}

function resolveConfigDir(options: LoadConfigOptions): string {
  const given = options.configDir ?? (options.env['CAMS_CONFIG_DIR'] || undefined);
  const dir = resolve(options.cwd, given ?? 'config');
  if (given !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) {
    const source = options.configDir === undefined ? ' (from CAMS_CONFIG_DIR)' : '';
    throw new ConfigError(`config directory not found${source}`, displayPath(options.cwd, dir));
  }
  return dir;
}

function getPath(props: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], props);
}

/** Merges the layers with convict and validates the result strictly. */
function mergeLayers(
  layers: readonly FileLayer[],
  env: Record<string, string | string[]>,
  overrides: ReadonlyArray<[string, unknown]>,
  sources: Sources,
): ConfigProperties {
  const store = convict(configSchema, { env: env as NodeJS.ProcessEnv, args: [] });
  for (const layer of layers) store.load(layer.data);
  for (const [key, value] of overrides) store.set(key, value);
  const props = store.getProperties();
  // Environment values are typed by convict only now; check every key once more and name its source.
  for (const leaf of configSchemaDocs()) checkValue(leaf, getPath(props, leaf.key), sources.get(leaf.key));
  try {
    store.validate({ allowed: 'strict', output: () => undefined });
  } catch (err) {
    throw new ConfigError((err as Error).message, undefined, undefined, { cause: err });
  }
  return props;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** Defaults that depend on other keys, and canonical forms of URLs and paths. */
function finish(props: ConfigProperties, sources: Sources, configDir: string): Mutable<ConfigProperties> {
  const out = props as Mutable<ConfigProperties>;
  if (out.env === 'development' && !sources.has('log.format')) out.log.format = 'pretty';
  out.smq.endpoint = normalizeEndpoint(out.smq.endpoint);
  out.smq.tokenEndpoint = normalizeEndpoint(out.smq.tokenEndpoint);
  if (out.http.tls.certPath) out.http.tls.certPath = resolve(configDir, out.http.tls.certPath);
  if (out.http.tls.keyPath) out.http.tls.keyPath = resolve(configDir, out.http.tls.keyPath);
  if (out.redis.tls.caPath) out.redis.tls.caPath = resolve(configDir, out.redis.tls.caPath);
  return out;
}

/** Explicit keys come as a pair (plus a token for an STS pair); none at all means the default chain. */
function checkCredentials(config: AppConfig): void {
  const { accessKeyId, accessKeySecret, securityToken } = config.credentials;
  if (Boolean(accessKeyId) !== Boolean(accessKeySecret)) {
    const missing = accessKeyId ? 'credentials.accessKeySecret' : 'credentials.accessKeyId';
    const present = accessKeyId ? 'credentials.accessKeyId' : 'credentials.accessKeySecret';
    throw new ConfigError(
      `is not set while ${present} is: set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET`,
      undefined,
      missing,
    );
  }
  if (securityToken && !accessKeyId) {
    throw new ConfigError(
      'is set without an AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to the STS pair too',
      undefined,
      'credentials.securityToken',
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Loads the configuration: `<dir>/default.json` → `<dir>/<NODE_ENV>.json` → environment variables →
 * `overrides`, validated strictly, plus the consumers of `<dir>/queues/`. The result is deeply frozen.
 * Every problem is a `ConfigError` naming the file (or variable) and the key.
 */
export function loadConfig(options: LoadConfigOptions): AppConfig {
  const configDir = resolveConfigDir(options);
  const sources: Sources = new Map();
  const nodeEnv = options.env['NODE_ENV'] || 'production';
  checkValue(leafByKey('env') as SchemaLeaf, nodeEnv, 'environment variable NODE_ENV');

  const layerNames = nodeEnv === 'default' ? ['default.json'] : ['default.json', `${nodeEnv}.json`];
  const problems: ConfigError[] = [];
  const layers = layerNames.flatMap(name => {
    const path = join(configDir, name);
    const layer = readLayer(path, displayPath(options.cwd, path), sources, problems);
    return layer ? [layer] : [];
  });
  const env = schemaEnv(options.env, sources, problems);
  throwProblems(problems);
  const overrides = overrideValues(options.overrides, sources);
  const props = mergeLayers(layers, env, overrides, sources);
  checkRelations(props, sources, configDir, options.cwd);
  checkRedisRelations(props.redis, sources, configDir, options.cwd);
  const settled = finish(props, sources, configDir);

  const consumers = loadQueueFiles(join(configDir, 'queues'), settled.smq, options.cwd);
  const config: AppConfig = { configDir, ...settled, consumers };
  checkCredentials(config);
  return deepFreeze(config);
}
