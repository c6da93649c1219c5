import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { KeySpace } from '../../src/pipeline/keys.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { defaultDedupeKey } from '../../src/receipts/dedupe.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, recordingHandler, statusEnvelope } from './harness.js';

const open: Pipeline[] = [];
const redis = new Redis(redisUrl());
after(async () => {
  await Promise.all(open.map(p => p.close()));
  redis.disconnect();
});

test('records the previous layout wrote are honoured after an upgrade: a redelivery re-runs nothing', async () => {
  const prefix = uniquePrefix('upgrade');
  const keys = new KeySpace(prefix);
  const receipts = Array.from({ length: 40 }, (_, i) => statusEnvelope(`up-${i}`, 'Read'));
  // What the previous version left once it had completed the first 30 for handlers a and b: one key per
  // (handler, receipt) with the window's TTL; their jobs are long removed.
  const completed = receipts.slice(0, 30);
  const pipeline = redis.pipeline();
  // Its completion stream, too: what tells the new layout that the previous one ran on this Redis.
  pipeline.xadd(keys.at(0).finishedStream, '*', 't', 'ChatAppStatus', 'j', 'old-job', 'o', 'completed');
  for (const e of completed) {
    const key = defaultDedupeKey(e.messageType, e.receipt);
    for (const h of ['a', 'b']) pipeline.set(keys.at(0).done(h, key), '1', 'EX', 3600);
  }
  await pipeline.exec();

  const a = recordingHandler('a');
  const b = recordingHandler('b');
  const { pipeline: upgraded } = createPipeline([a, b], { prefix });
  open.push(upgraded);
  await upgraded.waitUntilReady();
  const results = await upgraded.sink.submit(receipts);
  const outcomes = await Promise.all(results.map(r => upgraded.completions!.wait('ChatAppStatus', r.jobId)));
  assert.ok(outcomes.every(o => o === 'completed'));
  const fresh = new Set(receipts.slice(30).map(e => defaultDedupeKey(e.messageType, e.receipt)));
  for (const h of [a, b]) {
    assert.equal(h.calls.length, 10, 'only the receipts the old version had not completed ran');
    assert.ok(h.calls.every(c => fresh.has(c.key)));
  }
  // The old keys are left to expire on their own.
  const first = defaultDedupeKey('ChatAppStatus', completed[0]!.receipt);
  assert.ok((await redis.ttl(keys.at(0).done('a', first))) > 0);
  // Old processes still running during the roll-out read only the old keys: they are written too for a day.
  for (const e of receipts.slice(30)) {
    const key = defaultDedupeKey(e.messageType, e.receipt);
    assert.equal(
      await redis.exists(keys.at(0).done('a', key)),
      1,
      'the old layout written during the roll-out',
    );
  }
  const until = Number(await redis.get(keys.legacyUntil));
  assert.ok(until > Date.now() + 3600_000, 'old records are looked for through the window and the roll-out');
});

test('on a fresh Redis the previous layout is never looked for', async () => {
  const prefix = uniquePrefix('fresh');
  const keys = new KeySpace(prefix);
  const a = recordingHandler('a');
  const { pipeline: p } = createPipeline([a], { prefix });
  open.push(p);
  await p.waitUntilReady();
  // A stray key of the old layout is not honoured: nothing of that layout ever ran here.
  const e = statusEnvelope('fresh-1', 'Read');
  await redis.set(keys.at(0).done('a', defaultDedupeKey(e.messageType, e.receipt)), '1', 'EX', 3600);
  const other = statusEnvelope('fresh-2', 'Read');
  const results = await p.sink.submit([e, other]);
  for (const r of results) assert.equal(await p.completions!.wait('ChatAppStatus', r.jobId), 'completed');
  assert.equal(a.calls.length, 2);
  assert.equal(await redis.get(keys.legacyUntil), '0');
  // Nor is it written: one compact record per (handler, receipt) only.
  assert.equal(
    await redis.exists(keys.at(0).done('a', defaultDedupeKey(other.messageType, other.receipt))),
    0,
  );
});
