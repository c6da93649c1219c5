import type { Logger } from '../observability/logger.js';
import type { QueueDeclaration } from './broker.js';
import type { FaultSettings } from './faults.js';

export const DEFAULT_PORT = 9100;
export const DEFAULT_HOST = '127.0.0.1';
/** The MNS account that owns CAMS queues on the China site; clients only need it to be non-empty. */
export const DEFAULT_ACCOUNT_ID = '1943695596114318';
/** The account UID in the default queue names `Alicom-Queue-<uid>-<Type>`. */
export const DEMO_UID = '1234567890123456';
/** A well-known local test key, so the quick start needs no flags. Never a real credential. */
export const DEFAULT_ACCESS_KEY_ID = 'LTAI-emulator';
export const DEFAULT_ACCESS_KEY_SECRET = 'emulator-secret';
export const DEFAULT_ECS_ROLE_NAME = 'cams-receipts-ecs';
export const CAMS_MESSAGE_TYPES = ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'] as const;

export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

export interface EmulatorOptions {
  /** 0 picks a free port. Default 9100. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /**
   * The account the keys belong to; a `<AccountId>.mns.<region>.aliyuncs.com` Host header naming another
   * account is AccessDenied. Default the CAMS China-site account 1943695596114318.
   */
  readonly accountId?: string;
  /** AccessKey pairs accepted for MNS signatures and QueryTokenForMnsQueue. Default: LTAI-emulator / emulator-secret. */
  readonly accessKeys?: readonly AccessKeyPair[] | Readonly<Record<string, string>>;
  /**
   * MessageType=QueueName declarations, as `{ ChatAppStatus: 'Alicom-Queue-…' }` or a list.
   * Default: the three CAMS types as `Alicom-Queue-1234567890123456-<Type>`.
   */
  readonly queues?: readonly QueueDeclaration[] | Readonly<Record<string, string>>;
  /** VisibilityTimeout for queues created without one (declared or via CreateQueue). Default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** Lifetime of tokens from QueryTokenForMnsQueue. Default 600. */
  readonly tokenTtlSeconds?: number;
  /** Lifetime of role sessions (fake STS, metadata), overriding what was asked. Default: as asked. */
  readonly roleSessionTtlSeconds?: number;
  /** The instance RAM role the fake metadata service reports. Default `cams-receipts-ecs`. */
  readonly ecsRoleName?: string;
  /** Generated receipts per second across the declared queues. Default 0 (off). */
  readonly ratePerSecond?: number;
  /** Share of generated receipts enqueued twice. Default 0. */
  readonly duplicateRatio?: number;
  /** Faults active from the start. */
  readonly faults?: Partial<FaultSettings>;
  /** Date/Timestamp skew beyond which requests are refused (TimeExpired); 0 disables. Default 900. */
  readonly maxClockSkewSeconds?: number;
  readonly logger?: Logger;
}

export function defaultQueueName(messageType: string, uid = DEMO_UID): string {
  return `Alicom-Queue-${uid}-${messageType}`;
}

export function normalizeAccessKeys(input: EmulatorOptions['accessKeys']): Map<string, string> {
  const keys = new Map<string, string>();
  if (input === undefined) {
    keys.set(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET);
  } else if (Array.isArray(input)) {
    for (const pair of input as readonly AccessKeyPair[]) keys.set(pair.accessKeyId, pair.accessKeySecret);
  } else {
    for (const [id, secret] of Object.entries(input)) keys.set(id, secret);
  }
  if (keys.size === 0) throw new Error('at least one AccessKey pair is required');
  for (const [id, secret] of keys) {
    if (id === '' || secret === '') throw new Error('AccessKey id and secret must be non-empty');
    if (id.startsWith('STS.')) throw new Error('configured AccessKey ids may not start with "STS."');
  }
  return keys;
}

export function normalizeQueues(input: EmulatorOptions['queues']): QueueDeclaration[] {
  if (input === undefined) {
    return CAMS_MESSAGE_TYPES.map(messageType => ({ messageType, queueName: defaultQueueName(messageType) }));
  }
  if (Array.isArray(input)) return (input as readonly QueueDeclaration[]).map(d => ({ ...d }));
  return Object.entries(input).map(([messageType, queueName]) => ({ messageType, queueName }));
}

export function checkRange(name: string, value: number, low: number, high: number): number {
  if (!Number.isFinite(value) || value < low || value > high)
    throw new Error(`${name} must be between ${low} and ${high}`);
  return value;
}
