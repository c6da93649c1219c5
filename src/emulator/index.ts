import type { AddressInfo } from 'node:net';
import { silentLogger } from '../observability/logger.js';
import {
  Broker,
  type EmulatorStats,
  type InjectRequest,
  type InjectResult,
  type QueueDeclaration,
} from './broker.js';
import { EmulatorControl } from './control.js';
import { NO_FAULTS, parseFaults, type FaultSettings } from './faults.js';
import { ReceiptGenerator, type GeneratorSettings } from './generator.js';
import { EcsMetadata } from './metadata.js';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_ECS_ROLE_NAME,
  DEFAULT_HOST,
  DEFAULT_PORT,
  checkRange,
  normalizeAccessKeys,
  normalizeQueues,
  type EmulatorOptions,
} from './options.js';
import { DEFAULT_QUEUE_ATTRIBUTES } from './queue-types.js';
import { RpcVerifier } from './pop-rpc.js';
import { TokenApi } from './rpc.js';
import { RpcDispatcher } from './rpc-dispatch.js';
import { EmulatorServer } from './server.js';
import { StsApi } from './sts-api.js';

export type { EmulatorOptions, AccessKeyPair } from './options.js';
export {
  CAMS_MESSAGE_TYPES,
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCESS_KEY_SECRET,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_ECS_ROLE_NAME,
  DEMO_UID,
  defaultQueueName,
} from './options.js';
export type { StsStats } from './sts-sessions.js';
export type { EmulatorStats, InjectRequest, InjectResult, QueueDeclaration, QueueReport } from './broker.js';
export type { FaultSettings } from './faults.js';
export type { GeneratorSettings } from './generator.js';
export { ReceiptFactory, encodeReceipt, type Receipt } from './receipts.js';
export { formatShanghaiTime } from './tokens.js';

/**
 * A running emulator. SMQ, QueryTokenForMnsQueue, a fake STS (AssumeRole, AssumeRoleWithOIDC) and a
 * fake ECS metadata service (`/latest/…`) all live at `endpoint`.
 */
export interface EmulatorHandle {
  /** `http://host:port`: pass it as the MNSClient `endpoint` and the Dybaseapi `endpoint`. */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly accountId: string;
  /** The first configured AccessKey pair. */
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** MessageType → queue name (the first declared queue of each type). */
  readonly queues: Readonly<Record<string, string>>;
  declarations(): QueueDeclaration[];
  declareQueue(messageType: string, queueName: string): void;
  stats(): EmulatorStats;
  inject(request: InjectRequest): Promise<InjectResult>;
  faults(): FaultSettings;
  /** Replaces the whole fault set (fields left out are off). */
  setFaults(faults: Partial<FaultSettings>): FaultSettings;
  /** Changes only the given fault fields. */
  updateFaults(faults: Partial<FaultSettings>): FaultSettings;
  /** Makes every token issued so far fail with SecurityTokenExpired; returns how many were live. */
  expireTokens(): number;
  setTokenTtl(seconds: number): void;
  /** The instance RAM role the fake metadata service reports. */
  readonly ecsRoleName: string;
  /** Makes every role session issued so far fail with InvalidSecurityToken.Expired; returns how many were live. */
  expireRoleSessions(): number;
  /** Lifetime of role sessions issued from now on; undefined: as the caller asked. */
  setRoleSessionTtl(seconds: number | undefined): void;
  configureGenerator(settings: Partial<GeneratorSettings>): GeneratorSettings;
  /** Empties all queues, drops undeclared ones, clears faults and counters. */
  reset(): void;
  close(): Promise<void>;
}

const HOUSEKEEPING_MS = 1000;

/** Starts the emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const logger = options.logger ?? silentLogger();
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const accessKeys = normalizeAccessKeys(options.accessKeys);
  const declarations = normalizeQueues(options.queues);
  const visibilityTimeout = checkRange(
    'visibilityTimeoutSeconds',
    options.visibilityTimeoutSeconds ?? 30,
    1,
    43200,
  );
  const tokenTtl = checkRange('tokenTtlSeconds', options.tokenTtlSeconds ?? 600, 1, 86400);
  const maxClockSkewSeconds = checkRange(
    'maxClockSkewSeconds',
    options.maxClockSkewSeconds ?? 900,
    0,
    86400 * 365,
  );
  const broker = new Broker(
    { ...DEFAULT_QUEUE_ATTRIBUTES, visibilityTimeout: Math.round(visibilityTimeout) },
    Math.round(tokenTtl),
    parseFaults(options.faults ?? {}, NO_FAULTS),
  );
  for (const d of declarations) broker.declare(d.messageType, d.queueName);
  const generator = new ReceiptGenerator(broker, {
    ratePerSecond: options.ratePerSecond ?? 0,
    duplicateRatio: options.duplicateRatio ?? 0,
  });
  const control = new EmulatorControl(broker, generator);
  control.setRoleSessionTtl(options.roleSessionTtlSeconds);
  const ecsRoleName = options.ecsRoleName ?? DEFAULT_ECS_ROLE_NAME;
  const verifier = new RpcVerifier({ accessKeys, sessions: broker.sessions, maxClockSkewSeconds });
  const server = new EmulatorServer({
    broker,
    control,
    logger,
    auth: {
      accountId,
      accessKeys,
      tokens: broker.tokens,
      sessions: broker.sessions,
      maxClockSkewSeconds,
      tokenEarlyExpiryMs: () => broker.faults.tokenEarlyExpiryMs,
    },
    rpc: new RpcDispatcher(
      broker.faults,
      new TokenApi({ broker, verifier }),
      new StsApi(broker.sessions, verifier),
    ),
    metadata: new EcsMetadata(broker.sessions, ecsRoleName),
  });

  const host = options.host ?? DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.http.once('error', reject);
    server.http.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.http.off('error', reject);
      resolve();
    });
  });
  server.http.on('error', err => logger.error('emulator server error', { error: String(err) }));
  const port = (server.http.address() as AddressInfo).port;
  const reachableHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const housekeeping = setInterval(() => broker.housekeeping(), HOUSEKEEPING_MS);
  housekeeping.unref();
  generator.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      generator.stop();
      clearInterval(housekeeping);
      for (const queue of broker.queues.values()) queue.releaseWaiters();
      await new Promise<void>(resolve => {
        const force = setTimeout(() => server.http.closeAllConnections(), 1000);
        force.unref();
        server.http.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.http.closeIdleConnections();
      });
    })();
    return closing;
  };

  const [firstKeyId, firstSecret] = [...accessKeys.entries()][0] as [string, string];
  const queuesByType = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const d of broker.declarations) out[d.messageType] ??= d.queueName;
    return out;
  };
  logger.info('SMQ emulator listening', { endpoint: `http://${reachableHost}:${port}` });

  return {
    endpoint: `http://${reachableHost}:${port}`,
    host,
    port,
    accountId,
    accessKeyId: firstKeyId,
    accessKeySecret: firstSecret,
    get queues() {
      return queuesByType();
    },
    declarations: () => control.declarations(),
    declareQueue: (messageType, queueName) => control.declareQueue(messageType, queueName),
    stats: () => control.stats(),
    inject: request => control.inject(request),
    faults: () => control.faults(),
    setFaults: faults => control.setFaults(faults),
    updateFaults: faults => control.updateFaults(faults),
    expireTokens: () => control.expireTokens(),
    setTokenTtl: seconds => control.setTokenTtl(seconds),
    ecsRoleName,
    expireRoleSessions: () => control.expireRoleSessions(),
    setRoleSessionTtl: seconds => control.setRoleSessionTtl(seconds),
    configureGenerator: settings => control.configureGenerator(settings),
    reset: () => control.reset(),
    close,
  };
}
