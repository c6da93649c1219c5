import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { addressAllowlist, secretMatcher } from '../../src/http/guards.js';
import { sampleOf } from '../../src/http/push-routes.js';
import { eventually } from '../helpers/redis.js';
import { statusBatch } from './fixtures.js';
import { json, push, send, receiverPool } from './helpers.js';

const receiver = receiverPool();

const SECRET = 'k3y_0f-the.push~endpoint';

test('with a secret: the path and query forms are accepted; a wrong or missing one gets the unknown-path 404', async () => {
  const r = await receiver({ config: { secret: SECRET } });
  const t = randomUUID().slice(0, 8);
  assert.equal((await push(r.url, `/appstatus/${SECRET}`, statusBatch(`${t}-a`, 1))).status, 200);
  assert.equal((await push(r.url, `/appstatus?token=${SECRET}`, statusBatch(`${t}-b`, 1))).status, 200);
  await eventually(() => r.handler.calls.length === 2, 10_000, 'both receipts handled');

  const unknown = await push(r.url, '/no-such-path', '[]');
  assert.equal(unknown.status, 404);
  for (const path of [
    '/appstatus',
    '/appstatus/wrong-secret-value-x',
    `/appstatus/${SECRET}x`,
    `/appstatus/${SECRET.slice(0, -1)}`,
    '/appstatus?token=nope',
    `/appstatus?secret=${SECRET}`,
  ]) {
    const res = await push(r.url, path, statusBatch(`${t}-bad`, 1));
    assert.equal(res.status, 404, path);
    assert.equal(res.text, unknown.text, `${path}: same body as an unknown path`);
    assert.equal(res.headers['allow'], undefined);
  }
  // A wrong method with a wrong secret does not reveal the path either; with the right one it is 405.
  assert.equal((await send(new URL('/appstatus', r.url).toString(), { method: 'GET' })).status, 404);
  assert.equal(
    (await send(new URL(`/appstatus/${SECRET}`, r.url).toString(), { method: 'GET' })).status,
    405,
  );

  await new Promise(res => setTimeout(res, 100));
  assert.equal(r.handler.calls.length, 2, 'nothing from the refused posts was stored');
  assert.ok(r.logs.some(l => l.event === 'push_refused' && l['reason'] === 'secret'));
  assert.ok(!JSON.stringify(r.logs).includes(SECRET), 'the secret is never logged');
});

test('an allowlist that excludes the client gets 403; one that includes it lets the push through', async () => {
  const denied = await receiver({ config: { allowlist: ['10.0.0.0/8', '192.0.2.1'] } });
  const res = await push(denied.url, '/appstatus', statusBatch('deny', 1));
  assert.equal(res.status, 403);
  assert.deepEqual(json(res), { code: 1, msg: 'forbidden' });
  assert.ok(
    denied.logs.some(l => l.event === 'push_refused' && l['reason'] === 'address' && l['ip'] === '127.0.0.1'),
  );

  const allowed = await receiver({ config: { allowlist: ['10.0.0.0/8', '127.0.0.0/8'] } });
  assert.equal((await push(allowed.url, '/appstatus', statusBatch('allow', 1))).status, 200);
  const exact = await receiver({ config: { allowlist: ['127.0.0.1'] } });
  assert.equal((await push(exact.url, '/appstatus', statusBatch('exact', 1))).status, 200);
});

test('the allowlist is checked before the secret, and ignores X-Forwarded-For unless trustProxy is on', async () => {
  const r = await receiver({ config: { allowlist: ['203.0.113.0/24'], secret: SECRET } });
  const res = await push(r.url, `/appstatus/${SECRET}`, statusBatch('xff', 1), {
    headers: { 'x-forwarded-for': '203.0.113.7' },
  });
  assert.equal(res.status, 403, 'a client cannot claim an address when no proxy is trusted');
  assert.equal(
    (await push(r.url, '/appstatus/wrong', '[]')).status,
    403,
    'refused addresses learn nothing of the secret',
  );
});

test('with trustProxy, the address the proxy appended to X-Forwarded-For is checked', async () => {
  const r = await receiver({ config: { allowlist: ['203.0.113.0/24'], trustProxy: true } });
  const post = (xff?: string) =>
    push(r.url, '/appstatus', statusBatch(randomUUID(), 1), {
      headers: xff ? { 'x-forwarded-for': xff } : {},
    });
  assert.equal((await post('203.0.113.7')).status, 200);
  assert.equal(
    (await post('198.51.100.1, 203.0.113.7')).status,
    200,
    'the last hop is the client the proxy saw',
  );
  assert.equal((await post('198.51.100.1')).status, 403);
  assert.equal(
    (await post('203.0.113.7, 198.51.100.1')).status,
    403,
    'a spoofed first entry is not believed',
  );
  assert.equal((await post('not-an-ip')).status, 403);
  assert.equal((await post()).status, 403, 'without the header, the proxy itself (127.0.0.1) is the client');
});

test('addressAllowlist: IPs, CIDRs, IPv6 and IPv4-mapped addresses', () => {
  const allowed = addressAllowlist(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32', '::1']);
  assert.equal(allowed('10.255.0.1'), true);
  assert.equal(allowed('11.0.0.1'), false);
  assert.equal(allowed('192.0.2.1'), true);
  assert.equal(allowed('192.0.2.2'), false);
  assert.equal(allowed('::ffff:10.1.2.3'), true);
  assert.equal(allowed('2001:db8:1::5'), true);
  assert.equal(allowed('2001:db9::5'), false);
  assert.equal(allowed('::1'), true);
  assert.equal(allowed(''), false);
  assert.equal(allowed('10.0.0.1, 10.0.0.2'), false);
  assert.throws(() => addressAllowlist(['10.0.0.0/33']), ConfigError);
  assert.throws(() => addressAllowlist(['example.com']), ConfigError);
});

test('secretMatcher accepts only the exact string', () => {
  const matches = secretMatcher(SECRET);
  assert.equal(matches(SECRET), true);
  assert.equal(matches(`${SECRET} `), false);
  assert.equal(matches(SECRET.toUpperCase()), false);
  assert.equal(matches(''), false);
  assert.equal(matches(undefined), false);
  assert.equal(matches([SECRET]), false);
});

test('sampleOf keeps a short, printable start of the body with the secret removed', () => {
  assert.equal(sampleOf('a\nb\u0000c', ''), 'a.b.c');
  const long = sampleOf('y'.repeat(190) + SECRET + 'z'.repeat(500), SECRET);
  assert.ok(!long.includes(SECRET.slice(0, 8)), 'no prefix of the secret at the cut');
  assert.ok(long.endsWith('…'));
  assert.ok(long.length <= 201);
  assert.equal(sampleOf('short', SECRET), 'short');
});
