import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producer connections fail fast while Redis is away (no offline queue), so a receipt is never
 * acknowledged to SMQ or to an HTTP caller on the strength of a write that has not happened.
 */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: reconnectDelayMs,
    ...extra,
  });
}

/**
 * Reconnect attempts back off to once a second, no slower: pipelines resume within about a second of Redis
 * returning, and a second per connection is cheap for a Redis that is down.
 */
export function reconnectDelayMs(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 4), 1000);
}

/** Blocking connections for BullMQ workers and event readers: they must retry forever. */
export function blockingConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: reconnectDelayMs,
    ...extra,
  });
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** Quits gracefully, or disconnects when Redis is unreachable. */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    if (client.status === 'ready') await Promise.race([client.quit(), delay(1000)]);
  } catch {
    // already closing
  }
  client.disconnect();
}

/** A sleep that does not keep the process alive. */
export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms).unref());
}
