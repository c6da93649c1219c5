import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { assertHandled, receivedTypes } from '../../src/handlers/coverage.js';
import { HandlerRegistry } from '../../src/handlers/registry.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { MessageType } from '../../src/receipts/types.js';
import { tempDir } from '../config/fixtures.js';

function config(files: Record<string, object>) {
  const cwd = tempDir(files);
  return loadConfig({ cwd, env: {} });
}

function registry(types: readonly MessageType[]): HandlerRegistry {
  const r = new HandlerRegistry({ logger: silentLogger() });
  r.register({ name: 'h', messageTypes: types, handle: () => undefined });
  return r;
}

const CAMS: readonly MessageType[] = ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'];

test('SMS push is off by default: push on with CAMS handlers only still starts; no SMS workers', () => {
  const cfg = config({ 'config/default.json': { http: { port: 8080 } } });
  assert.equal(cfg.http.paths.SmsReport, '');
  assert.deepEqual(receivedTypes(cfg), CAMS);
  assert.doesNotThrow(() => assertHandled(cfg, registry(CAMS)));
});

test('an SMS push path or queue file makes the type received, and then it needs a handler', () => {
  const pushed = config({
    'config/default.json': { http: { port: 8080, paths: { SmsReport: '/smsreport' } } },
  });
  assert.deepEqual(receivedTypes(pushed), [...CAMS, 'SmsReport']);
  assert.throws(() => assertHandled(pushed, registry(CAMS)), /no handler is registered for SmsReport/);
  assert.doesNotThrow(() => assertHandled(pushed, registry([...CAMS, 'SmsReport'])));
  const queued = config({
    'config/queues/sms.json': { messageType: 'SmsUp', queueName: 'Alicom-Queue-1-SmsUp' },
  });
  assert.deepEqual(receivedTypes(queued), [...CAMS, 'SmsUp']);
  assert.throws(() => assertHandled(queued, registry(CAMS)), /no handler is registered for SmsUp/);
});

test('a push path that is not a path is refused; two types may not share one', () => {
  assert.throws(
    () => config({ 'config/default.json': { http: { paths: { SmsUp: 'smsup' } } } }),
    /http\.paths\.SmsUp/,
  );
  assert.throws(
    () => config({ 'config/default.json': { http: { paths: { SmsUp: '/inbound' } } } }),
    /share the push path/,
  );
});

test('a CAMS push path set to "" turns that type off: push on without an audit handler starts', () => {
  const statusOnly: readonly MessageType[] = ['ChatAppInbound', 'ChatAppStatus'];
  const on = config({ 'config/default.json': { http: { port: 8080 } } });
  assert.throws(() => assertHandled(on, registry(statusOnly)), /no handler is registered for ChatAppAudit/);
  const off = config({ 'config/default.json': { http: { port: 8080, paths: { ChatAppAudit: '' } } } });
  assert.equal(off.http.paths.ChatAppAudit, '');
  assert.deepEqual(receivedTypes(off), statusOnly);
  assert.doesNotThrow(() => assertHandled(off, registry(statusOnly)));
});
