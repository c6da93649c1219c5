import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { ReceiptSink } from '../../src/contracts/pipeline.js';
import { eventually } from '../helpers/redis.js';
import { statusBatch } from './fixtures.js';
import { push, startReceiver } from './helpers.js';

/** Wraps the real sink so a batch can be held in flight until released. */
function gatedSink(): {
  wrap: (sink: ReceiptSink) => ReceiptSink;
  entered: () => boolean;
  release: () => void;
} {
  let release: () => void = () => undefined;
  const gate = new Promise<void>(resolve => (release = resolve));
  let entered = false;
  return {
    wrap: sink => ({
      async submit(envelopes) {
        entered = true;
        await gate;
        return sink.submit(envelopes);
      },
    }),
    entered: () => entered,
    release: () => release(),
  };
}

test('close() stops accepting, lets the request in flight finish with 200, then resolves', async () => {
  const gated = gatedSink();
  const r = await startReceiver({ wrapSink: gated.wrap, storeTimeoutMs: 10_000 });
  try {
    const { port } = new URL(r.url);
    const body = JSON.stringify(statusBatch('drain', 3));
    const request = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // Two pipelined requests on one keep-alive connection: the first is held in flight.
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    const socketClosed = new Promise(resolve => socket.on('close', resolve));
    socket.write(request('/appstatus') + request('/appstatus'));
    await eventually(gated.entered, 5000, 'the first batch reaches the sink');

    let closed = false;
    const closing = r.server.close().then(() => (closed = true));
    await new Promise(res => setTimeout(res, 100));
    assert.equal(closed, false, 'close waits for the request in flight');
    await assert.rejects(push(r.url, '/appstatus', '[]'), /ECONNREFUSED/, 'no new connections');

    gated.release();
    await closing;
    await socketClosed;
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map(m => Number(m[1]));
    assert.equal(statuses[0], 200, 'the request in flight finished');
    assert.ok(
      statuses.length === 1 || statuses[1] === 503,
      `a request after close is refused: ${statuses.join(',')}`,
    );
    await eventually(() => r.handler.calls.length === 3, 10_000, 'the drained batch was processed');
  } finally {
    await r.close();
  }
});

test('close() is bounded: a request stuck past closeTimeoutMs has its connection cut', async () => {
  const stuck: ReceiptSink = { submit: () => new Promise(() => undefined) };
  const r = await startReceiver({ wrapSink: () => stuck, storeTimeoutMs: 60_000, closeTimeoutMs: 300 });
  try {
    const reply = push(r.url, '/appstatus', statusBatch('stuck', 1));
    reply.catch(() => undefined);
    await new Promise(res => setTimeout(res, 100));
    const started = Date.now();
    await r.server.close();
    assert.ok(Date.now() - started < 5000, 'close did not wait for the stuck request');
    await assert.rejects(reply, /socket hang up|ECONNRESET/);
    await r.server.close(); // idempotent
  } finally {
    await r.close();
  }
});
