import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Handler } from '../../src/contracts/handler.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { createPipeline, envelope, recordingHandler, statusEnvelope } from './harness.js';

const open: Pipeline[] = [];
after(async () => {
  await Promise.all(open.map(p => p.close()));
});

async function started(...args: Parameters<typeof createPipeline>): Promise<Pipeline> {
  const { pipeline } = createPipeline(...args);
  open.push(pipeline);
  await pipeline.waitUntilReady();
  return pipeline;
}

test('duplicate receipts collapse into one job and each handler sees the receipt once', async () => {
  const a = recordingHandler('a');
  const b = recordingHandler('b', { types: ['ChatAppStatus'] });
  const p = await started([a, b]);
  const results = await p.sink.submit([statusEnvelope('m1'), statusEnvelope('m1'), statusEnvelope('m2')]);
  assert.equal(results[0]?.jobId, results[1]?.jobId);
  assert.notEqual(results[0]?.jobId, results[2]?.jobId);
  const again = await p.sink.submit([statusEnvelope('m1')]);
  const outcomes = await Promise.all(
    [...results, ...again].map(r => p.completions!.wait('ChatAppStatus', r.jobId)),
  );
  assert.deepEqual(outcomes, ['completed', 'completed', 'completed', 'completed']);
  assert.equal(a.calls.length, 2);
  assert.equal(b.calls.length, 2);
  assert.equal(new Set(a.calls.map(c => c.key)).size, 2);
  assert.ok(a.calls.every(c => c.source === 'smq' && c.attempt === 1));
});

test('a receipt resubmitted after its job finished is not handled again', async () => {
  const a = recordingHandler('a');
  const p = await started([a], { config: { removeCompletedCount: 0, removeCompletedAgeSeconds: 0 } });
  const [first] = await p.sink.submit([statusEnvelope('r1', 'Read')]);
  assert.equal(await p.completions!.wait('ChatAppStatus', first!.jobId), 'completed');
  const [second] = await p.sink.submit([statusEnvelope('r1', 'Read')]);
  assert.equal(await p.completions!.wait('ChatAppStatus', second!.jobId), 'completed');
  assert.equal(a.calls.length, 1);
});

test('a handler that fails twice then succeeds is retried, and only the failing handler re-runs', async () => {
  const flaky = recordingHandler('flaky', { failures: 2 });
  const steady = recordingHandler('steady');
  const p = await started([flaky, steady]);
  const [r] = await p.sink.submit([statusEnvelope('f1')]);
  assert.equal(await p.completions!.wait('ChatAppStatus', r!.jobId), 'completed');
  assert.deepEqual(
    flaky.calls.map(c => c.attempt),
    [1, 2, 3],
  );
  assert.equal(steady.calls.length, 1);
  assert.equal(await p.deadLetters.count(), 0);
});

test('a handler that always fails is dead-lettered with its error after the last attempt', async () => {
  const broken = recordingHandler('broken', { failures: 99 });
  const p = await started([broken]);
  const [r] = await p.sink.submit([statusEnvelope('d1', 'Failed')]);
  assert.equal(await p.completions!.wait('ChatAppStatus', r!.jobId), 'dead_lettered');
  assert.equal(broken.calls.length, 3);
  const entries = await p.deadLetters.list();
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.reason, 'failed');
  assert.match(entries[0]?.error ?? '', /broken: transient failure/);
  assert.deepEqual(entries[0]?.handlers, ['broken']);
  assert.equal((entries[0]?.receipt as { MessageId?: string }).MessageId, 'd1');
});

test('a PermanentError dead-letters at once, without further attempts', async () => {
  const strict = recordingHandler('strict', { failures: 1, permanent: true });
  const p = await started([strict]);
  const [r] = await p.sink.submit([
    envelope('ChatAppInbound', { MessageId: 'in1', Type: 'TEXT', Message: 'hi' }),
  ]);
  assert.equal(await p.completions!.wait('ChatAppInbound', r!.jobId), 'dead_lettered');
  assert.equal(strict.calls.length, 1);
  const [entry] = await p.deadLetters.list({ type: 'ChatAppInbound' });
  assert.equal(entry?.reason, 'permanent');
});

test('a waiter registered after its job finished still learns the outcome', async () => {
  const a = recordingHandler('a');
  const p = await started([a]);
  const [r] = await p.sink.submit([statusEnvelope('late')]);
  await new Promise(res => setTimeout(res, 300));
  assert.equal(a.calls.length, 1);
  assert.equal(await p.completions!.wait('ChatAppStatus', r!.jobId), 'completed');
});

test('a handler leased elsewhere (e.g. by a crashed worker) waits for the lease without spending attempts', async () => {
  const h = recordingHandler('h');
  const p = await started([h]);
  const claim = await p.idempotency.claim('h', 'busy-1|Delivered', 800);
  assert.equal(claim.state, 'claimed');
  const [r] = await p.sink.submit([statusEnvelope('busy-1')]);
  await new Promise(res => setTimeout(res, 400));
  assert.equal(h.calls.length, 0, 'not run while the lease is held');
  assert.equal(await p.completions!.wait('ChatAppStatus', r!.jobId), 'completed');
  assert.equal(h.calls.length, 1);
  assert.equal(h.calls[0]?.attempt, 1, 'waiting for the lease spent no attempt');
  assert.equal(await p.deadLetters.count(), 0);
});

test('a handler past handlerTimeoutMs sees its signal abort, and the receipt is retried', async () => {
  const reasons: string[] = [];
  let calls = 0;
  const slow: Handler = {
    name: 'slow',
    messageTypes: ['ChatAppStatus'],
    async handle(_receipt, ctx) {
      calls += 1;
      if (calls > 1) return;
      // Ignores nothing: waits for its signal, as a handler with a cancellable request would.
      await new Promise<void>(resolve =>
        ctx.signal.addEventListener('abort', () => {
          reasons.push(String((ctx.signal.reason as Error).message));
          resolve();
        }),
      );
    },
  };
  const p = await started([slow], { config: { handlerTimeoutMs: 150 } });
  const [r] = await p.sink.submit([statusEnvelope('t1')]);
  assert.equal(await p.completions!.wait('ChatAppStatus', r!.jobId), 'completed');
  assert.equal(calls, 2);
  assert.deepEqual(reasons, ['timed out after 150 ms']);
});

test('shutdown aborts the signal of every running handler, including one that reads it late', async () => {
  const seen: string[] = [];
  let entered!: () => void;
  const bothRunning = new Promise<void>(resolve => (entered = resolve));
  let running = 0;
  const waiter = (name: string, readLate: boolean): Handler => ({
    name,
    messageTypes: ['ChatAppStatus'],
    async handle(_receipt, ctx) {
      if (++running === 2) entered();
      await bothRunning;
      if (readLate) await new Promise(resolve => setTimeout(resolve, 100));
      const { signal } = ctx;
      if (!signal.aborted) await new Promise(resolve => signal.addEventListener('abort', resolve));
      seen.push(`${name}: ${(signal.reason as Error).message}`);
    },
  });
  const { pipeline, shutdown } = createPipeline([waiter('early', false), waiter('late', true)]);
  open.push(pipeline);
  await pipeline.waitUntilReady();
  await pipeline.sink.submit([statusEnvelope('s1')]);
  await bothRunning;
  shutdown.abort();
  const deadline = Date.now() + 3000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20));
  assert.deepEqual(seen.sort(), ['early: aborted', 'late: aborted']);
});

test('ctx.redelivered: false on a first run; true on a retry, and for a receipt marked redelivered', async () => {
  const a = recordingHandler('a', { failures: 1 });
  const p = await started([a]);
  const [fresh, seen] = await p.sink.submit([
    statusEnvelope('rd-1'),
    { ...statusEnvelope('rd-2'), redelivered: true },
  ]);
  await p.completions!.wait('ChatAppStatus', fresh!.jobId);
  await p.completions!.wait('ChatAppStatus', seen!.jobId);
  const runs = (key: string) => a.calls.filter(c => c.key === key).map(c => [c.attempt, c.redelivered]);
  assert.deepEqual(runs('rd-1|Delivered'), [
    [1, false],
    [2, true],
  ]);
  assert.deepEqual(runs('rd-2|Delivered'), [
    [1, true],
    [2, true],
  ]);
});
