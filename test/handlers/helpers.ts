import { Writable } from 'node:stream';
import type { HandlerContext } from '../../src/contracts/handler.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import type { Logger } from '../../src/observability/logger.js';
import type { MessageType } from '../../src/receipts/types.js';

/** A JSON logger whose lines are collected, parsed, in `lines`. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level, format: 'json' }, sink), lines };
}

export function context<T extends MessageType>(
  messageType: T,
  overrides: Partial<HandlerContext<T>> = {},
): HandlerContext<T> {
  return {
    messageType,
    source: 'smq',
    queueName: 'Alicom-Queue-1-' + messageType,
    dedupeKey: 'key-1',
    attempt: 1,
    redelivered: false,
    parsedMessage: undefined,
    status: undefined,
    logger: silentLogger(),
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Lets winston's stream transport flush. */
export const tick = () => new Promise(resolve => setImmediate(resolve));
