import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { PushEvent } from '../../src/contracts/telemetry.js';
import { statusBatch } from './fixtures.js';
import { json, push, send, startReceiver, type Receiver } from './helpers.js';

// One receiver for the file: nothing here is stored, so tests cannot see each other's receipts.
const events: PushEvent[] = [];
let r: Receiver;
before(async () => {
  r = await startReceiver({
    config: { bodyLimitBytes: 4096 },
    onPush: e => events.push(e),
    mount: app => {
      app.post('/echo', async request => ({ parsed: request.body }));
      app.get('/boom', async () => {
        throw new Error('kaput');
      });
    },
  });
});
after(async () => {
  await r.close();
});

test('a body that is not JSON gets 400 with a clear message, and is logged with a short sample', async () => {
  const body = `MessageId=1&Status=Sent ${'x'.repeat(1000)}`;
  const res = await push(r.url, '/appstatus', body, { contentType: 'text/plain' });
  assert.equal(res.status, 400);
  const reply = json(res) as { code: number; msg: string };
  assert.equal(reply.code, 1);
  assert.match(reply.msg, /^body is not JSON/);
  const log = r.logs.find(l => l.event === 'push_rejected' && l['reason'] === 'not_json');
  assert.ok(log, 'push_rejected logged');
  assert.equal(log.level, 'warn');
  assert.equal(log['messageType'], 'ChatAppStatus');
  const sample = String(log['sample']);
  assert.ok(sample.startsWith('MessageId=1&Status=Sent xxx'));
  assert.ok(sample.length <= 201, `sample is short (${sample.length})`);
  assert.equal(await r.pipeline.deadLetters.count(), 0, 'not a receipt: nothing parked');
});

test('JSON that is not an array or object, and an empty body, get 400', async () => {
  for (const body of ['"a string"', '42', 'null', '', '   ']) {
    const res = await push(r.url, '/inbound', body);
    assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
    assert.equal((json(res) as { code: number }).code, 1);
  }
  const none = await send(new URL('/inbound', r.url).toString(), { method: 'POST' });
  assert.equal(none.status, 400, 'POST without a body');
});

test('a body over the limit gets 413, whether announced by Content-Length or streamed', async () => {
  const big = statusBatch('big', 200);
  assert.ok(JSON.stringify(big).length > 4096);
  const res = await push(r.url, '/appstatus', big);
  assert.equal(res.status, 413);
  assert.deepEqual(json(res), { code: 1, msg: 'body is larger than 4096 bytes' });
  assert.ok(r.logs.some(l => l.event === 'push_rejected' && l['reason'] === 'too_large'));

  const streamed = await rawRequest(
    r.url,
    [
      'POST /appstatus HTTP/1.1',
      'Host: x',
      'Content-Type: application/json',
      'Transfer-Encoding: chunked',
      'Connection: close',
      '',
      '',
    ].join('\r\n') + chunked(JSON.stringify(big)),
  );
  assert.match(streamed, /^HTTP\/1\.1 413 /);
});

test('a wrong method on a push path gets 405 with an Allow header', async () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    const res = await send(new URL('/appstatus', r.url).toString(), { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers['allow'], 'POST');
    assert.equal((json(res) as { code: number }).code, 1);
  }
  const head = await send(new URL('/inbound', r.url).toString(), { method: 'HEAD' });
  assert.equal(head.status, 405);
});

test('an unknown path gets 404, for any method', async () => {
  for (const [method, path] of [
    ['POST', '/nope'],
    ['GET', '/'],
    ['POST', '/appstatus/extra'],
    ['POST', '/AppStatus'],
  ] as const) {
    const res = await send(new URL(path, r.url).toString(), {
      method,
      body: method === 'POST' ? '[]' : undefined,
    });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.deepEqual(json(res), { code: 1, msg: 'not found' });
  }
});

test('a trailing slash on a push path is tolerated', async () => {
  const res = await push(r.url, '/appstatus/', []);
  assert.equal(res.status, 200);
});

test('the metrics hook sees every push outcome with its status', async () => {
  events.length = 0;
  await push(r.url, '/appaudit', 'not json');
  await push(r.url, '/appaudit', []);
  await new Promise(res => setTimeout(res, 50));
  assert.deepEqual(
    events.map(e => [e.messageType, e.status]),
    [
      ['ChatAppAudit', 400],
      ['ChatAppAudit', 200],
    ],
  );
  assert.ok(events.every(e => e.durationMs >= 0));
});

function chunked(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1000) {
    const part = text.slice(i, i + 1000);
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

/** Writes raw bytes and returns what the server answered (for requests a client library won't send). */
function rawRequest(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(raw));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.on('error', err => (answer ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
  });
}

test("routes mounted beside the push routes keep Fastify's JSON parsing and get CAMS-shaped errors", async () => {
  const echo = await push(r.url, '/echo', { a: 1 });
  assert.equal(echo.status, 200);
  assert.deepEqual(json(echo), { parsed: { a: 1 } }, 'the raw-text parsers apply to the push routes only');
  const boom = await send(new URL('/boom', r.url).toString(), { method: 'GET' });
  assert.equal(boom.status, 500);
  assert.deepEqual(json(boom), { code: 1, msg: 'internal error' });
  const logged = r.logs.find(l => l.event === 'http_error');
  assert.equal(logged?.['error'], 'kaput');
  assert.equal(logged?.['route'], '/boom');
});
