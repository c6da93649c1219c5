import type { Agent } from 'node:http';
import { SmqError } from '../errors.js';
import type { ConsumerConfig, SmqConfig } from '../config/types.js';
import type { AccountCredentials } from '../credentials/account.js';
import { MnsQueueClient } from './mns-client.js';
import { accountSource, type CredentialSource, type TokenProvider } from './token-provider.js';
import type { DeleteFailure, SmqCredentials, SmqMessage, SmqQueueClient } from './types.js';

export interface CredentialedQueueClientOptions {
  readonly credentials: CredentialSource;
  /** Builds a client for one set of credentials (an MnsQueueClient in production). */
  readonly create: (credentials: SmqCredentials) => SmqQueueClient;
}

/**
 * An SmqQueueClient that always signs with current credentials: it asks the source before each call,
 * rebuilds the underlying client when the token changed, and reports an auth rejection so the next call
 * gets a fresh token. The error is rethrown, so the loop still backs off.
 */
export class CredentialedQueueClient implements SmqQueueClient {
  readonly #source: CredentialSource;
  readonly #create: (credentials: SmqCredentials) => SmqQueueClient;
  #current?: { credentials: SmqCredentials; client: SmqQueueClient };

  constructor(options: CredentialedQueueClientOptions) {
    this.#source = options.credentials;
    this.#create = options.create;
  }

  receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<SmqMessage[]> {
    const call = this.#call(c => c.receive(max, waitSeconds, signal));
    if (!signal) return call;
    // A stop must not wait for a slow token call: give up on it, as on the long poll itself.
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve([]);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal.removeEventListener('abort', onAbort);
          fn(value);
        };
      call.then(settle(resolve), settle(reject));
    });
  }

  deleteBatch(receiptHandles: readonly string[]): Promise<DeleteFailure[]> {
    return this.#call(client => client.deleteBatch(receiptHandles));
  }

  changeVisibility(
    receiptHandle: string,
    visibilityTimeoutSeconds: number,
  ): Promise<{ receiptHandle: string; nextVisibleTimeMs: number }> {
    return this.#call(client => client.changeVisibility(receiptHandle, visibilityTimeoutSeconds));
  }

  async #call<T>(fn: (client: SmqQueueClient) => Promise<T>): Promise<T> {
    const credentials = await this.#source.credentials();
    if (this.#current?.credentials !== credentials) {
      this.#current = { credentials, client: this.#create(credentials) };
    }
    try {
      return await fn(this.#current.client);
    } catch (err) {
      if (err instanceof SmqError && err.errorClass === 'auth') this.#source.invalidate(credentials);
      throw err;
    }
  }
}

export interface ConsumerClientOptions {
  readonly consumer: ConsumerConfig;
  readonly smq: SmqConfig;
  /** The account credential; `auth: 'static'` consumers sign SMQ with it. */
  readonly account: AccountCredentials;
  /** Shared by every `auth: 'cams'` consumer of the process; required when any consumer uses it. */
  readonly tokens?: TokenProvider;
  readonly agent?: Agent;
}

/** The production client stack for one consumer: credentials (token or static) → MnsQueueClient. */
export function createConsumerClient(options: ConsumerClientOptions): SmqQueueClient {
  const { consumer, smq } = options;
  let source: CredentialSource;
  if (consumer.auth === 'static') {
    source = accountSource(options.account);
  } else {
    if (!options.tokens)
      throw new TypeError(`Expected a TokenProvider for auth 'cams' (${consumer.queueName})`);
    source = options.tokens.forQueue(consumer.messageType, consumer.queueName);
  }
  return new CredentialedQueueClient({
    credentials: source,
    create: credentials =>
      new MnsQueueClient({
        endpoint: consumer.endpoint || smq.endpoint,
        accountId: smq.accountId,
        credentials,
        queueName: consumer.queueName,
        agent: options.agent,
      }),
  });
}
