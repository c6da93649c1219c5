import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HandlerLoadError, PermanentError } from '../../src/errors.js';
import { HandlerRegistry } from '../../src/handlers/registry.js';
import type { Handler } from '../../src/contracts/handler.js';
import { silentLogger } from '../../src/observability/logger.js';
import { captureLogger, tick } from './helpers.js';

const noop = () => undefined;
function handler(name: string, extra: Partial<Handler> = {}): Handler {
  return { name, messageTypes: ['ChatAppStatus'], handle: noop, ...extra };
}

test('handlers are found by name and by type, in registration order', () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  const a = handler('a', { messageTypes: ['ChatAppStatus', 'ChatAppInbound', 'ChatAppStatus'] });
  const b = handler('b');
  const c = handler('c', { messageTypes: ['ChatAppAudit'] });
  registry.register(a);
  registry.register(b);
  registry.register(c);
  assert.deepEqual(registry.handlersFor('ChatAppStatus'), [a, b], 'a listed once though its type repeats');
  assert.deepEqual(registry.handlersFor('ChatAppInbound'), [a]);
  assert.deepEqual(registry.handlersFor('ChatAppAudit'), [c]);
  assert.equal(registry.get('b'), b);
  assert.equal(registry.get('zzz'), undefined);
  assert.deepEqual(registry.names(), ['a', 'b', 'c']);
  assert.equal(registry.size, 3);
});

test('a duplicate name is a HandlerLoadError naming both sources', () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  registry.register(handler('same'), {}, 'handlers/one.js');
  assert.throws(
    () => registry.register(handler('same'), {}, 'handlers/two.js'),
    (err: unknown) =>
      err instanceof HandlerLoadError &&
      err.module === 'handlers/two.js' &&
      /duplicate handler name "same" \(already registered by handlers\/one\.js\)/.test(err.message),
  );
  assert.equal(registry.size, 1);
});

test('dedupeKeyFor uses the default key unless the handler overrides it', () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  const receipt = { MessageId: 'm1', Status: 'Read', From: '+65' };
  assert.equal(registry.dedupeKeyFor(handler('d'), 'ChatAppStatus', receipt), 'm1|Read');
  const custom = handler('c', { dedupeKey: (r, type) => `${type}/${String(r['MessageId'])}` });
  assert.equal(registry.dedupeKeyFor(custom, 'ChatAppStatus', receipt), 'ChatAppStatus/m1');
});

test('a dedupeKey that throws or returns no string is a PermanentError', () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  const receipt = { MessageId: 'm1', Status: 'Read' };
  const throwing = handler('t', {
    dedupeKey: () => {
      throw new Error('boom');
    },
  });
  assert.throws(
    () => registry.dedupeKeyFor(throwing, 'ChatAppStatus', receipt),
    /handler "t": dedupeKey threw: boom/,
  );
  for (const bad of ['', undefined, 42]) {
    const h = handler('b', { dedupeKey: () => bad as string });
    assert.throws(() => registry.dedupeKeyFor(h, 'ChatAppStatus', receipt), PermanentError);
  }
});

test('initAll passes each handler its options, in order', async () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  const seen: string[] = [];
  registry.register(handler('a', { init: o => void seen.push(`a:${String(o['x'])}`) }), { x: 1 });
  registry.register(handler('b'));
  registry.register(handler('c', { init: async o => void seen.push(`c:${String(o['x'])}`) }), { x: 3 });
  await registry.initAll();
  assert.deepEqual(seen, ['a:1', 'c:3']);
});

test('an init that times out fails startup and closes what had started, in reverse', async () => {
  const registry = new HandlerRegistry({ logger: silentLogger(), initTimeoutMs: 50 });
  const closed: string[] = [];
  registry.register(handler('first', { close: () => void closed.push('first') }), {}, 'builtin:first');
  registry.register(handler('second', { init: noop, close: () => void closed.push('second') }));
  registry.register(
    handler('slow', { init: () => new Promise(() => undefined), close: () => void closed.push('slow') }),
    {},
    'handlers/slow.js',
  );
  await assert.rejects(
    registry.initAll(),
    (err: unknown) =>
      err instanceof HandlerLoadError &&
      err.module === 'handlers/slow.js' &&
      /failed to initialise: init did not finish within 50 ms/.test(err.message),
  );
  assert.deepEqual(closed, ['second', 'first'], 'the handler that never started is not closed');
});

test('an init that throws fails startup with its reason', async () => {
  const registry = new HandlerRegistry({ logger: silentLogger() });
  registry.register(
    handler('bad', {
      init: () => {
        throw new Error('options.url is required');
      },
    }),
    {},
    'handlers/bad.mjs',
  );
  await assert.rejects(
    registry.initAll(),
    /handlers\/bad\.mjs: handler "bad" failed to initialise: options\.url is required/,
  );
});

test('closeAll closes in reverse order, logs failures and timeouts, never throws, and runs once', async () => {
  const { logger, lines } = captureLogger();
  const registry = new HandlerRegistry({ logger, closeTimeoutMs: 50 });
  const closed: string[] = [];
  registry.register(handler('a', { close: () => void closed.push('a') }));
  registry.register(
    handler('b', {
      close: () => {
        closed.push('b');
        throw new Error('b close failed');
      },
    }),
  );
  registry.register(
    handler('c', {
      close: () => {
        closed.push('c');
        return new Promise(() => undefined);
      },
    }),
  );
  registry.register(handler('d', { close: async () => void closed.push('d') }));
  await registry.initAll();
  await registry.closeAll();
  assert.deepEqual(closed, ['d', 'c', 'b', 'a']);
  await registry.closeAll();
  assert.equal(closed.length, 4, 'a second closeAll does nothing');
  await tick();
  const failures = lines.filter(l => l['event'] === 'handler_close_failed');
  assert.deepEqual(
    failures.map(l => [l['handler'], l['error']]),
    [
      ['c', 'close did not finish within 50 ms'],
      ['b', 'b close failed'],
    ],
  );
});
