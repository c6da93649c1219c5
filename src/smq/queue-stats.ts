import type { AppConfig, ConsumerConfig } from '../config/types.js';
import { accountCredentials } from '../credentials/account.js';
import { silentLogger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import type { MessageType } from '../receipts/types.js';
import { toSmqError } from './classify.js';
import { MnsQueueClient } from './mns-client.js';
import { TokenProvider, accountSource, type CredentialSource } from './token-provider.js';

/** How long one GetQueueAttributes (or token) call may take before the queue is reported unavailable. */
const SMQ_TIMEOUT_MS = 5000;

/** One configured queue's attributes, or why they could not be read. */
export type SmqQueueStats =
  | {
      readonly queueName: string;
      readonly messageType: MessageType;
      readonly available: true;
      readonly activeMessages: number;
      readonly inactiveMessages: number;
      readonly delayMessages: number;
    }
  | {
      readonly queueName: string;
      readonly messageType: MessageType;
      readonly available: false;
      readonly reason: string;
    };

/**
 * The attributes of every configured queue, each signed as its consumer loop signs (a CAMS token or the
 * account's key). A queue that cannot be read is reported, not thrown.
 */
export async function queueStats(
  config: AppConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SmqQueueStats[]> {
  if (config.consumers.length === 0) return [];
  const account = accountCredentials({ credentials: config.credentials, env, logger: silentLogger() });
  const tokens = config.consumers.some(c => c.auth === 'cams')
    ? new TokenProvider({
        endpoint: config.smq.tokenEndpoint,
        account,
        requestTimeoutMs: SMQ_TIMEOUT_MS,
        logger: silentLogger(),
      })
    : undefined;
  return Promise.all(
    config.consumers.map(consumer => {
      const source =
        consumer.auth === 'static' || !tokens
          ? accountSource(account)
          : tokens.forQueue(consumer.messageType, consumer.queueName);
      return queueAttributes(config, consumer, source);
    }),
  );
}

/** GetQueueAttributes through the official client, signed like the consumer loop signs. */
export async function queueAttributes(
  config: AppConfig,
  consumer: ConsumerConfig,
  source: CredentialSource,
): Promise<SmqQueueStats> {
  try {
    const client = new MnsQueueClient({
      endpoint: consumer.endpoint || config.smq.endpoint,
      accountId: config.smq.accountId,
      credentials: await source.credentials(),
      queueName: consumer.queueName,
      requestTimeoutMs: SMQ_TIMEOUT_MS,
    });
    const attributes = await client.attributes();
    return {
      queueName: consumer.queueName,
      messageType: consumer.messageType,
      available: true,
      ...attributes,
    };
  } catch (err) {
    const error = toSmqError(err, 'GetQueueAttributes');
    const code = error.smqCode ? `${error.smqCode}: ` : '';
    return unavailable(consumer, `${code}${error.message}`);
  }
}

function unavailable(consumer: ConsumerConfig, reason: string): SmqQueueStats {
  return {
    queueName: consumer.queueName,
    messageType: consumer.messageType,
    available: false,
    reason: redactText(reason),
  };
}
