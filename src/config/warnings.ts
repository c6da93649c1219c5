import { MESSAGE_TYPES } from '../receipts/types.js';
import type { AppConfig } from './types.js';

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** CAMS names its queues `Alicom-Queue-<uid>-<MessageType>`; a different suffix is almost surely a mix-up. */
function queueTypeMismatches(config: AppConfig): string[] {
  return config.consumers.flatMap(c => {
    const suffix = /^Alicom-Queue-\d+-(\w+)$/.exec(c.queueName)?.[1];
    const isType = (MESSAGE_TYPES as readonly string[]).includes(suffix ?? '');
    return isType && suffix !== c.messageType
      ? [
          `${c.file}: queue ${c.queueName} looks like a ${suffix} queue but is declared as messageType ${c.messageType}`,
        ]
      : [];
  });
}

/** The account id in an `https://<account>.mns.<region>.aliyuncs.com` endpoint must match smq.accountId. */
function accountMismatches(config: AppConfig): string[] {
  const endpoints = new Set([config.smq.endpoint, ...config.consumers.map(c => c.endpoint)]);
  return [...endpoints].flatMap(endpoint => {
    let host = '';
    try {
      host = new URL(endpoint).hostname;
    } catch {
      return [];
    }
    const account = /^(\d+)\.mns\./.exec(host)?.[1];
    return account && account !== config.smq.accountId
      ? [`endpoint ${endpoint} belongs to account ${account} but smq.accountId is ${config.smq.accountId}`]
      : [];
  });
}

/**
 * Things that are valid but probably not what the operator wants. `check-config` prints them;
 * the daemon logs them at startup.
 */
export function configWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.role !== 'worker' && config.consumers.length === 0 && config.http.port === 0) {
    warnings.push('no queue files in queues/ and http.port is 0: this process receives nothing');
  }
  if (config.handlers.length === 0) {
    warnings.push('handlers is empty: receipts will be acknowledged without being handled');
  }
  const open = config.http.port !== 0 && !LOOPBACK.test(config.http.host);
  if (open && !config.http.secret && config.http.allowlist.length === 0) {
    warnings.push(
      `the push receiver listens on ${config.http.host} without http.secret or http.allowlist; anyone who can reach it can inject receipts`,
    );
  }
  if (config.redis.tls.insecureSkipVerify) {
    warnings.push(
      'INSECURE: redis.tls.insecureSkipVerify is true, so the Redis server certificate is NOT verified: anyone on the network path can pose as Redis and read or change every receipt. Set redis.tls.caPath to the CA that signed it instead',
    );
  }
  return [...warnings, ...queueTypeMismatches(config), ...accountMismatches(config)];
}
