import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { PermanentError } from '../../src/errors.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import {
  createForwardHandler,
  createLogHandler,
  signForward,
  verifyForwardSignature,
} from '../../src/handlers/builtin/index.js';
import { captureLogger, context, tick } from './helpers.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const received: Received[] = [];
let server: Server;
let base: string;

// Replies with the status named in the path: /status/503 answers 503, /slow never answers in time.
before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000).unref();
        return;
      }
      const status = Number(/^\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      res
        .writeHead(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {})
        .end('{"ok":true}');
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const receipt = { MessageId: 'm1', Status: 'Delivered', To: '+6580000000', Message: '你好 👋' };
/** Runs the forward handler once; `handle` may return void, so wrap it in a promise for assert.rejects. */
async function forward(options: Record<string, unknown>, ctx = context('ChatAppStatus')): Promise<void> {
  await createForwardHandler(options).handle(receipt, ctx);
}
const lastFor = (path: string) => [...received].reverse().find(r => r.path === path);

/** What a receiver does: recompute the HMAC over "<timestamp>.<raw body>" and compare in constant time. */
function verify(secret: string, headers: IncomingHttpHeaders, rawBody: string): boolean {
  const signature = String(headers['x-cams-signature'] ?? '');
  const expected =
    'sha256=' +
    createHmac('sha256', secret)
      .update(`${String(headers['x-cams-timestamp'])}.${rawBody}`)
      .digest('hex');
  return (
    signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}

test('forward POSTs the receipt as JSON with a verifiable signature and context headers', async () => {
  const handler = createForwardHandler({ url: `${base}/ok`, secret: 'shh' });
  const before = Math.floor(Date.now() / 1000);
  await handler.handle(
    receipt,
    context('ChatAppStatus', { dedupeKey: 'm1|Delivered', attempt: 2, source: 'http' }),
  );
  const got = lastFor('/ok');
  assert.ok(got);
  assert.deepEqual(JSON.parse(got.body), receipt);
  assert.equal(got.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(got.headers['x-cams-message-type'], 'ChatAppStatus');
  assert.equal(decodeURIComponent(String(got.headers['x-cams-dedupe-key'])), 'm1|Delivered');
  assert.equal(got.headers['x-cams-source'], 'http');
  assert.equal(got.headers['x-cams-attempt'], '2');
  assert.ok(Math.abs(Number(got.headers['x-cams-timestamp']) - before) <= 2);
  assert.ok(verify('shh', got.headers, got.body), 'the signature verifies with the secret');
  assert.equal(verify('other', got.headers, got.body), false, 'and not with another secret');
  assert.equal(verify('shh', got.headers, got.body.replace('m1', 'm2')), false, 'nor over a changed body');
});

test('verifyForwardSignature accepts the real header and refuses tampering or stale timestamps', async () => {
  await forward({ url: `${base}/verify`, secret: 'k' });
  const got = lastFor('/verify');
  assert.ok(got);
  const sig = String(got.headers['x-cams-signature']);
  const ts = String(got.headers['x-cams-timestamp']);
  assert.equal(verifyForwardSignature('k', sig, ts, got.body), true);
  assert.equal(verifyForwardSignature('k', sig, ts, got.body + ' '), false);
  assert.equal(verifyForwardSignature('k', sig, String(Number(ts) + 1), got.body), false);
  assert.equal(verifyForwardSignature('k', undefined, ts, got.body), false);
  assert.equal(verifyForwardSignature('k', sig, ts, got.body, 300, (Number(ts) + 301) * 1000), false);
  const old = `sha256=${signForward('k', '1000', '{}')}`;
  assert.equal(verifyForwardSignature('k', old, '1000', '{}', 300, 1_200_000), true);
  assert.equal(verifyForwardSignature('k', old, '1000', '{}'), false, 'too old now');
});

test('forward without a secret sends no signature', async () => {
  await createForwardHandler({ url: `${base}/unsigned` }).handle(receipt, context('ChatAppStatus'));
  const got = lastFor('/unsigned');
  assert.ok(got);
  assert.equal(got.headers['x-cams-signature'], undefined);
});

test('5xx, 408, 429 and 3xx throw a retryable Error; other 4xx throw PermanentError', async () => {
  const ctx = context('ChatAppStatus');
  for (const status of [500, 503, 408, 429, 302]) {
    await assert.rejects(
      forward({ url: `${base}/status/${status}?token=abc` }, ctx),
      (err: unknown) =>
        err instanceof Error &&
        !(err instanceof PermanentError) &&
        err.message === `forward to ${base}/status/${status} answered HTTP ${status}`,
      String(status),
    );
  }
  for (const status of [400, 401, 404, 413, 422]) {
    await assert.rejects(forward({ url: `${base}/status/${status}` }, ctx), PermanentError, String(status));
  }
  assert.equal(lastFor('/elsewhere'), undefined, 'a redirect is not followed');
});

test('a timeout throws a retryable Error', async () => {
  await assert.rejects(forward({ url: `${base}/slow`, timeoutMs: 100 }), (err: unknown) => {
    assert.ok(err instanceof Error && !(err instanceof PermanentError));
    assert.equal(err.message, `forward to ${base}/slow timed out after 100 ms`);
    return true;
  });
});

test('an aborted context (shutdown) stops the request', async () => {
  const controller = new AbortController();
  const pending = forward(
    { url: `${base}/slow`, timeoutMs: 5_000 },
    context('ChatAppStatus', { signal: controller.signal }),
  );
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(pending, /forward to .*\/slow aborted/);
});

test('a network error throws a retryable Error with the reason', async () => {
  const closed = createServer();
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise(resolve => closed.close(resolve));
  await assert.rejects(
    forward({ url: `http://127.0.0.1:${port}/x` }),
    (err: unknown) =>
      err instanceof Error && !(err instanceof PermanentError) && /failed: ECONNREFUSED/.test(err.message),
  );
});

test('forward options are validated', () => {
  assert.throws(() => createForwardHandler({}), /options\.url is required/);
  assert.throws(() => createForwardHandler({ url: 'not a url' }), /not a valid URL/);
  assert.throws(
    () => createForwardHandler({ url: base, timeoutMs: 0 }),
    /timeoutMs must be a positive integer/,
  );
  assert.throws(() => createForwardHandler({ url: base, secret: '' }), /secret must be a non-empty string/);
  assert.throws(
    () => createForwardHandler({ url: base, messageTypes: ['VoiceReport'] }),
    /messageTypes must be/,
  );
  assert.deepEqual(createForwardHandler({ url: base, messageTypes: ['ChatAppAudit'] }).messageTypes, [
    'ChatAppAudit',
  ]);
});

test('log writes one receipt_handled line with the key fields and without the message content', async () => {
  const { logger, lines } = captureLogger('info');
  const handler = createLogHandler();
  assert.equal(handler.name, 'log');
  assert.deepEqual(handler.messageTypes, MESSAGE_TYPES);
  const inbound = {
    MessageId: 'in-1',
    Type: 'TEXT',
    From: '8613800000000',
    To: '6580000000',
    Message: 'my secret plans',
  };
  await handler.handle(inbound, context('ChatAppInbound', { logger, dedupeKey: '8613800000000|in-1' }));
  await handler.handle(
    { MessageId: 'm1', Status: 'Failed', ErrorCode: '131026' },
    context('ChatAppStatus', { logger, dedupeKey: 'm1|Failed', attempt: 3 }),
  );
  await tick();
  assert.equal(lines.length, 2);
  const [first, second] = lines;
  assert.equal(first?.['event'], 'receipt_handled');
  assert.equal(first?.['level'], 'info');
  assert.equal(first?.['messageType'], 'ChatAppInbound');
  assert.equal(first?.['dedupeKey'], '*********0000|in-1', 'the phone number in the key is masked too');
  assert.equal(first?.['MessageId'], 'in-1');
  assert.equal(first?.['From'], '*********0000');
  assert.equal(first?.['To'], '******0000');
  assert.ok(!JSON.stringify(lines).includes('8613800000000'), 'no phone number in the clear');
  assert.equal(first?.['Message'], undefined);
  assert.ok(!JSON.stringify(lines).includes('secret plans'));
  assert.equal(second?.['Status'], 'Failed');
  assert.equal(second?.['ErrorCode'], '131026');
  assert.equal(second?.['attempt'], 3);
});

test('log shows phone numbers in the clear only with maskPhoneNumbers: false', async () => {
  const { logger, lines } = captureLogger('info');
  const receipt = { MessageId: 'm2', Status: 'Read', From: '8613800000008', To: '8613100000008' };
  await createLogHandler({ maskPhoneNumbers: false }).handle(
    receipt,
    context('ChatAppStatus', { logger, dedupeKey: 'm2|Read' }),
  );
  await tick();
  assert.equal(lines[0]?.['From'], '8613800000008');
  assert.equal(lines[0]?.['To'], '8613100000008');
  assert.throws(
    () => createLogHandler({ maskPhoneNumbers: 'yes' }),
    /maskPhoneNumbers must be true or false/,
  );
});

test('log honours its level option', async () => {
  const { logger, lines } = captureLogger('info');
  const handler = createLogHandler({ level: 'debug' });
  await handler.handle({ MessageId: 'm' }, context('ChatAppInbound', { logger }));
  await tick();
  assert.equal(lines.length, 0, 'a debug line is filtered at level info');
});
