import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HandlerLoadError, PermanentError } from '../../src/errors.js';
import { loadHandlers } from '../../src/handlers/loader.js';
import type { HandlerSpec } from '../../src/handlers/loader.js';
import { silentLogger } from '../../src/observability/logger.js';
import { captureLogger, context, tick } from './helpers.js';
import { Redis } from 'ioredis';
import { StatusStore } from '../../src/pipeline/status-store.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'cams-handlers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logger = silentLogger();
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function write(name: string, source: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, source);
  return name;
}

const plain = (name: string) =>
  `export default { name: '${name}', messageTypes: ['ChatAppStatus'], handle() {} };\n`;

async function loadError(entries: readonly HandlerSpec[]): Promise<HandlerLoadError> {
  try {
    await loadHandlers(entries, dir, { logger });
  } catch (err) {
    assert.ok(err instanceof HandlerLoadError, `expected a HandlerLoadError, got ${String(err)}`);
    assert.equal(err.code, 'CAMS_ERR_HANDLER_LOAD');
    return err;
  }
  return assert.fail('expected loading to fail');
}

test('a TypeScript module with a default export loads (under tsx)', async () => {
  const file = write(
    'handlers/typed.ts',
    `import type { Handler } from '${join(repoRoot, 'src/index.js')}';
     const types: Handler['messageTypes'] = ['ChatAppStatus', 'ChatAppAudit'];
     const seen: string[] = [];
     export default { name: 'typed', messageTypes: types, handle(r: { MessageId?: string }) { seen.push(String(r.MessageId)); }, seen };\n`,
  );
  const registry = await loadHandlers([{ module: file, options: { a: 1 } }], dir, { logger });
  const handler = registry.get('typed');
  assert.ok(handler);
  assert.deepEqual(registry.handlersFor('ChatAppAudit'), [handler]);
  await handler.handle({ MessageId: 'm1', Status: 'Read' }, context('ChatAppStatus'));
  assert.deepEqual((handler as unknown as { seen: string[] }).seen, ['m1']);
});

test('plain JavaScript loads as .mjs, as .js in a "type": "module" package, and as .cjs', async () => {
  write('js/esm/package.json', '{ "type": "module" }');
  const registry = await loadHandlers(
    [
      { module: write('js/one.mjs', plain('one')) },
      { module: write('js/esm/two.js', plain('two')) },
      {
        module: write(
          'js/three.cjs',
          `module.exports = { name: 'three', messageTypes: ['ChatAppInbound'], handle() {} };\n`,
        ),
      },
    ],
    dir,
    { logger },
  );
  assert.deepEqual(registry.names(), ['one', 'two', 'three']);
});

test('a module of named exports (no default) loads', async () => {
  const file = write(
    'named.mjs',
    `export const name = 'named'; export const messageTypes = ['ChatAppInbound']; export function handle() {}\n`,
  );
  const registry = await loadHandlers([{ module: file }], dir, { logger });
  assert.deepEqual(
    registry.handlersFor('ChatAppInbound').map(h => h.name),
    ['named'],
  );
});

test('module paths resolve against the config directory, and absolute paths work', async () => {
  write('elsewhere/h.mjs', plain('elsewhere'));
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const relative = await loadHandlers([{ module: '../elsewhere/h.mjs' }], configDir, { logger });
  assert.deepEqual(relative.names(), ['elsewhere']);
  const absolute = await loadHandlers([{ module: join(dir, 'elsewhere/h.mjs') }], '/nonexistent', { logger });
  assert.deepEqual(absolute.names(), ['elsewhere']);
});

test('a missing file is a HandlerLoadError naming the module and where it looked', async () => {
  const err = await loadError([{ module: 'handlers/nope.mjs' }]);
  assert.equal(err.module, 'handlers/nope.mjs');
  assert.match(err.message, /^handlers\/nope\.mjs: file not found \(looked for .*handlers\/nope\.mjs\)/);
  assert.match((await loadError([{ module: 'handlers' }])).message, /handlers: not a file/);
});

test('a syntax error is a HandlerLoadError naming the module, with the cause', async () => {
  const file = write('broken.mjs', 'export default { name: "x", \n');
  const err = await loadError([{ module: file }]);
  assert.equal(err.module, 'broken.mjs');
  assert.match(err.message, /^broken\.mjs: import failed: /);
  assert.ok(err.cause instanceof SyntaxError);
  assert.match(err.message, new RegExp(`at ${join(dir, 'broken.mjs')}:2:1$`), 'names file:line:column');
  const typed = write('broken.ts', 'const n: number = 1;\nexport default { name: n +;\n');
  assert.match(
    (await loadError([{ module: typed }])).message,
    new RegExp(`broken\\.ts: import failed: [\\s\\S]*${join(dir, 'broken.ts')}:2:\\d+`),
  );
  const throwing = write('throws.mjs', 'throw new Error("missing env FOO");\n');
  assert.match(
    (await loadError([{ module: throwing }])).message,
    /throws\.mjs: import failed: missing env FOO/,
  );
});

test('a module outside the application imports cams-receipts and the packages installed beside it', async () => {
  write('etc/handlers/package.json', '{ "type": "module" }');
  const file = write(
    'etc/handlers/outside.ts',
    `import { defineHandler, PermanentError } from 'cams-receipts';
     import { stringify } from 'yaml';
     export default defineHandler({
       name: 'outside',
       messageTypes: ['ChatAppStatus'],
       async handle(r) { throw new PermanentError(stringify({ id: r.MessageId }).trim()); },
     });\n`,
  );
  const registry = await loadHandlers([{ module: file }], dir, { logger });
  const handler = registry.get('outside');
  assert.ok(handler);
  await assert.rejects(
    Promise.resolve().then(() =>
      handler.handle({ MessageId: 'm9', Status: 'Read' }, context('ChatAppStatus')),
    ),
    (err: unknown) => err instanceof PermanentError && err.message === 'id: m9',
    'the PermanentError class is the daemon’s own',
  );
  const missing = write('etc/handlers/missing-dep.mjs', `import 'no-such-package-anywhere';\n${plain('m')}`);
  assert.match(
    (await loadError([{ module: missing }])).message,
    /missing-dep\.mjs: import failed: Cannot find package 'no-such-package-anywhere'/,
  );
});

test('ESM syntax in a file loaded as CommonJS gets a hint', async () => {
  const file = write('esm-as-cjs/h.cjs', plain('x'));
  assert.match(
    (await loadError([{ module: file }])).message,
    /name it \.mjs \(\.mts\), or put a package\.json with \{"type": "module"\}/,
  );
});

test('each bad shape is named by its field', async () => {
  const cases: [source: string, expected: RegExp][] = [
    [`export const other = 1;`, /no default export/],
    [`export default function handle() {}`, /default export must be an object .* got a function/],
    [`export default 'log';`, /default export must be an object .* got a string/],
    [
      `export default { messageTypes: ['ChatAppStatus'], handle() {} };`,
      /"name" must be a non-empty string, got nothing/,
    ],
    [
      `export default { name: '', messageTypes: ['ChatAppStatus'], handle() {} };`,
      /"name" must be a non-empty string/,
    ],
    [
      `export default { name: 'a:b', messageTypes: ['ChatAppStatus'], handle() {} };`,
      /"name" "a:b" must start with/,
    ],
    [
      `export default { name: 'n', handle() {} };`,
      /"messageTypes" must be a non-empty array of ChatAppInbound/,
    ],
    [
      `export default { name: 'n', messageTypes: [], handle() {} };`,
      /"messageTypes" must be a non-empty array/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus', 'VoiceReport'], handle() {} };`,
      /"messageTypes" has unknown type "VoiceReport" \(valid: /,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'] };`,
      /"handle" must be a function, got nothing/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], handle: 'x' };`,
      /"handle" must be a function, got a string/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], handle() {}, init: {} };`,
      /"init" must be a function when present/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], handle() {}, close: 1 };`,
      /"close" must be a function/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], trackStatus: 'yes', handle() {} };`,
      /"trackStatus" must be true or false, got a string/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], batch: { maxSize: 0 }, handleBatch() {} };`,
      /"batch" must be \{ maxSize: an integer >= 1/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], serializeBy: 'MessageId', handle() {} };`,
      /"serializeBy" must be a function when present/,
    ],
    [
      `export default { name: 'n', messageTypes: ['ChatAppStatus'], handle() {}, dedupeKey: 'MessageId' };`,
      /"dedupeKey" must be a function/,
    ],
  ];
  for (const [index, [source, expected]] of cases.entries()) {
    const file = write(`shape/${index}.mjs`, source + '\n');
    const err = await loadError([{ module: file }]);
    assert.equal(err.module, file);
    assert.match(err.message, expected, source);
  }
});

test('a duplicate name across modules is a HandlerLoadError naming the second module', async () => {
  const a = write('dup/a.mjs', plain('twin'));
  const b = write('dup/b.mjs', plain('twin'));
  const err = await loadError([{ module: a }, { module: b }]);
  assert.equal(err.module, b);
  assert.match(err.message, /duplicate handler name "twin" \(already registered by dup\/a\.mjs\)/);
  const clash = write('dup/log.mjs', plain('log'));
  assert.match((await loadError(['log', { module: clash }])).message, /already registered by builtin:log/);
});

test('built-ins load by name; forward needs options and says how to give them', async () => {
  const registry = await loadHandlers(
    ['log', { name: 'forward', options: { url: 'http://127.0.0.1:9/hook', secret: 's3cret' } }],
    dir,
    { logger },
  );
  assert.deepEqual(registry.names(), ['log', 'forward']);
  assert.equal(registry.handlersFor('ChatAppAudit').length, 2);
  const bare = await loadError(['forward']);
  assert.equal(bare.module, 'builtin:forward');
  assert.match(bare.message, /needs options; write \{ "name": "forward", "options": \{ "url"/);
  assert.match((await loadError([{ name: 'forward', options: {} }])).message, /options\.url is required/);
  assert.match(
    (await loadError([{ name: 'forward', options: { url: 'ftp://x/y' } }])).message,
    /options\.url must be http or https, not ftp/,
  );
  assert.match(
    (await loadError([{ name: 'log', options: { level: 'loud' } }])).message,
    /options\.level must be one of/,
  );
  assert.match((await loadError([{ name: 'log', options: { colour: 1 } }])).message, /unknown option colour/);
});

test('a built-in renamed through options can be configured twice', async () => {
  const registry = await loadHandlers(
    [
      { name: 'forward', options: { url: 'http://127.0.0.1:9/a', messageTypes: ['ChatAppStatus'] } },
      {
        name: 'forward',
        options: { url: 'http://127.0.0.1:9/b', name: 'forward-crm', messageTypes: ['ChatAppInbound'] },
      },
    ],
    dir,
    { logger },
  );
  assert.deepEqual(
    registry.handlersFor('ChatAppInbound').map(h => h.name),
    ['forward-crm'],
  );
  assert.deepEqual(
    registry.handlersFor('ChatAppStatus').map(h => h.name),
    ['forward'],
  );
});

test('bad entries are HandlerLoadErrors naming their position', async () => {
  assert.match(
    (await loadError(['nope'])).message,
    /builtin:nope: unknown built-in handler \(built-ins: log, forward\)/,
  );
  assert.match((await loadError(['constructor'])).message, /unknown built-in handler/);
  assert.match((await loadError([42 as never])).message, /^handlers\[0\]: must be a built-in name/);
  assert.match(
    (await loadError(['log', { module: 'a.mjs', name: 'log' }])).message,
    /^handlers\[1\]: give either "module"/,
  );
  assert.match((await loadError([{ path: 'a.mjs' } as never])).message, /handlers\[0\]: unknown key path/);
  assert.match(
    (await loadError([{ module: 'a.mjs', options: 'x' } as never])).message,
    /"options" must be an object/,
  );
  assert.match((await loadError([{ module: '' }])).message, /needs "module"/);
});

test('without a secret, forward warns once at load', async () => {
  const { logger: capture, lines } = captureLogger();
  await loadHandlers(
    [{ name: 'forward', options: { url: 'http://user:pw@127.0.0.1:9/hook?token=abc' } }],
    dir,
    {
      logger: capture,
    },
  );
  await tick();
  const warning = lines.find(l => l['event'] === 'forward_unsigned');
  assert.ok(warning);
  assert.equal(warning['url'], 'http://127.0.0.1:9/hook', 'no credentials or query in the log');
});

test('fresh loading re-reads a changed module (reload); the default reuses the first import', async () => {
  const file = write('reload/h.mjs', plain('before'));
  const first = await loadHandlers([{ module: file }], dir, { logger, fresh: true });
  write('reload/h.mjs', plain('after'));
  const cached = await loadHandlers([{ module: file }], dir, { logger });
  const fresh = await loadHandlers([{ module: file }], dir, { logger, fresh: true });
  assert.deepEqual(first.names(), ['before']);
  assert.deepEqual(fresh.names(), ['after']);
  assert.ok(cached.names()[0] === 'before' || cached.names()[0] === 'after');
  // A CommonJS-loaded TypeScript file is re-read too.
  const ts = write('reload/h.ts', plain('ts-before'));
  await loadHandlers([{ module: ts }], dir, { logger, fresh: true });
  write('reload/h.ts', plain('ts-after'));
  assert.deepEqual((await loadHandlers([{ module: ts }], dir, { logger, fresh: true })).names(), [
    'ts-after',
  ]);
});

test('the example handlers load from the config directory and work', async () => {
  const configDir = join(repoRoot, 'config');
  const registry = await loadHandlers(
    [
      { module: '../examples/handlers/status-tracker.ts', options: { maxTracked: 10 } },
      {
        module: '../examples/handlers/inbound-autoreply.mjs',
        options: { replies: { price: 'See our prices' } },
      },
    ],
    configDir,
    { logger },
  );
  assert.deepEqual(registry.names(), ['status-tracker', 'inbound-autoreply']);
  await registry.initAll();

  const tracker = registry.get('status-tracker');
  assert.ok(tracker);
  const { trackedStatus } = await import('../../examples/handlers/status-tracker.js');
  // ctx.status as the daemon gives it: the state machine in Redis.
  const redis = new Redis(redisUrl());
  const store = new StatusStore(redis, uniquePrefix('example'), 3600);
  const apply = async (MessageId: string, Status: string) =>
    tracker.handle(
      { MessageId, Status },
      context('ChatAppStatus', { status: await store.apply(MessageId, Status, Date.now()) }),
    );
  for (const Status of ['Sent', 'Read', 'Delivered', 'subscribe']) await apply('ex-1', Status);
  assert.deepEqual(trackedStatus('ex-1'), { status: 'Read', history: ['Sent', 'Read'] });
  await apply('ex-2', 'Failed');
  await apply('ex-2', 'Read');
  assert.equal(trackedStatus('ex-2')?.status, 'Failed', 'Failed is terminal');
  redis.disconnect();

  const autoreply = registry.get('inbound-autoreply');
  assert.ok(autoreply);
  const { logger: capture, lines } = captureLogger();
  const receipt = { MessageId: 'in-1', From: '8613800000000', Type: 'TEXT', Message: 'What is the PRICE?' };
  await autoreply.handle(receipt, context('ChatAppInbound', { logger: capture }));
  const reply = { MessageId: 'in-2', From: '8613800000000', Type: 'REPLY', Message: '{"payload":"CONFIRM"}' };
  await autoreply.handle(
    reply,
    context('ChatAppInbound', { logger: capture, parsedMessage: { payload: 'CONFIRM' } }),
  );
  await tick();
  assert.deepEqual(
    lines.filter(l => l['event'] === 'autoreply_chosen').map(l => l['reply']),
    ['See our prices', 'You chose: CONFIRM'],
  );
  assert.equal(registry.dedupeKeyFor(autoreply, 'ChatAppInbound', receipt), '8613800000000|in-1');
  await registry.closeAll();
  assert.equal(trackedStatus('ex-1'), undefined, 'close cleared the state');
});
