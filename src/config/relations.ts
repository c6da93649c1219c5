import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { MESSAGE_TYPES } from '../receipts/types.js';
import { displayPath } from './files.js';
import type { ConfigProperties } from './schema.js';

/** Throws a ConfigError naming the first of `keys` that was set (its file), or the first key. */
type Fail = (message: string, ...keys: string[]) => never;

/**
 * Checks that involve more than one key; the error names the key that was set. `sources` maps each key
 * set in a file or the environment to where it was set.
 */
export function checkRelations(
  props: ConfigProperties,
  sources: ReadonlyMap<string, string>,
  configDir: string,
  cwd: string,
): void {
  const fail: Fail = (message, ...keys) => {
    const key = keys.find(k => sources.has(k)) ?? keys[0];
    throw new ConfigError(message, key ? sources.get(key) : undefined, key);
  };
  checkSmq(props.smq, fail);
  checkHttp(
    props.http,
    fail,
    path => existsSync(resolve(configDir, path)),
    path => displayPath(cwd, resolve(configDir, path)),
  );
  checkAdmin(props, fail);
}

function checkSmq(smq: ConfigProperties['smq'], fail: Fail): void {
  if (smq.leaseLeadMs >= smq.visibilityTimeoutSeconds * 1000) {
    fail(
      `smq.leaseLeadMs (${smq.leaseLeadMs}) must be less than smq.visibilityTimeoutSeconds (${smq.visibilityTimeoutSeconds}) in ms`,
      'smq.leaseLeadMs',
      'smq.visibilityTimeoutSeconds',
    );
  }
  if (smq.backoffMaxMs < smq.backoffBaseMs) {
    fail('smq.backoffMaxMs must be >= smq.backoffBaseMs', 'smq.backoffMaxMs', 'smq.backoffBaseMs');
  }
}

function checkHttp(
  http: ConfigProperties['http'],
  fail: Fail,
  exists: (path: string) => boolean,
  shown: (path: string) => string,
): void {
  const paths = MESSAGE_TYPES.map(type => http.paths[type]).filter(p => p !== '');
  const dup = paths.find((p, i) => paths.indexOf(p) !== i);
  if (dup) fail(`two message types share the push path ${dup}`, ...MESSAGE_TYPES.map(t => `http.paths.${t}`));
  if (Boolean(http.tls.certPath) !== Boolean(http.tls.keyPath)) {
    fail(
      'set both http.tls.certPath and http.tls.keyPath, or neither',
      'http.tls.certPath',
      'http.tls.keyPath',
    );
  }
  for (const name of ['certPath', 'keyPath'] as const) {
    const value = http.tls[name];
    if (value && !exists(value)) fail(`file not found: ${shown(value)}`, `http.tls.${name}`);
  }
}

function checkAdmin(props: ConfigProperties, fail: Fail): void {
  const { http, admin } = props;
  if (admin.port !== 0 && admin.port === http.port) {
    fail(
      'admin.port must differ from http.port (0 serves admin on the HTTP server)',
      'admin.port',
      'http.port',
    );
  }
  if (!admin.dashboard.enabled) return;
  if (!admin.dashboard.username || !admin.dashboard.password) {
    fail(
      'the dashboard needs basic-auth credentials: set admin.dashboard.username and admin.dashboard.password (CAMS_DASHBOARD_PASSWORD)',
      'admin.dashboard.password',
      'admin.dashboard.enabled',
    );
  }
  if (http.port === 0 && admin.port === 0) {
    fail('the dashboard needs a listener: set http.port or admin.port', 'admin.dashboard.enabled');
  }
}
