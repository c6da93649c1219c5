import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dlqCommand } from '../../src/cli/dlq.js';
import { PermanentError } from '../../src/errors.js';
import type { Handler } from '../../src/contracts/handler.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { waitReady } from '../../src/redis/connection.js';
import type { DeadLetterEntry } from '../../src/receipts/envelope.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { createPipeline, recordingHandler, statusEnvelope } from '../pipeline/harness.js';
import { runCommand, tempDir, ttyStdin } from './helpers.js';

/** Fails permanently while `failing` is set, like a handler waiting for a fix. */
function switchableHandler(name: string): Handler & { failing: boolean; calls: string[] } {
  const handler = {
    name,
    messageTypes: ['ChatAppStatus', 'ChatAppInbound'] as const,
    failing: true,
    calls: [] as string[],
    handle(_receipt: unknown, ctx: { dedupeKey: string }) {
      handler.calls.push(ctx.dedupeKey);
      if (handler.failing) throw new PermanentError('downstream rejected the receipt');
    },
  };
  return handler as unknown as Handler & { failing: boolean; calls: string[] };
}

describe('cams-receipts dlq', () => {
  const prefix = uniquePrefix('ops-dlq');
  const cwd = tempDir({ 'config/default.json': { handlers: ['log'] } });
  const env = { REDIS_URL: redisUrl(), CAMS_REDIS_PREFIX: prefix };
  const dlq = (args: string[], stdin?: NodeJS.ReadableStream) =>
    runCommand(dlqCommand, [...args, '--config', 'config'], {
      cwd,
      env,
      ...(stdin ? { stdin: stdin as never } : {}),
    });

  const flaky = switchableHandler('flaky');
  const steady = recordingHandler('steady', { types: ['ChatAppStatus', 'ChatAppInbound'] });
  let pipeline: Pipeline;

  before(async () => {
    ({ pipeline } = createPipeline([flaky, steady], { prefix }));
    await pipeline.waitUntilReady();
    await waitReady(pipeline.redis, 5000);
  });
  after(async () => {
    await pipeline.close();
  });

  const entries = async (): Promise<DeadLetterEntry[]> => pipeline.deadLetters.list();
  const clear = async () => pipeline.deadLetters.remove((await entries()).map(e => e.id));

  test('usage: --help is 0, a missing or unknown subcommand or a bad option is 2', async () => {
    const help = await dlq(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /dlq replay/);
    assert.equal((await dlq([])).code, 2);
    assert.equal((await dlq(['frob'])).code, 2);
    const badType = await dlq(['list', '--type', 'VoiceReport']);
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /--type must be one of/);
    assert.equal((await dlq(['list', '--since', 'yesterday'])).code, 2);
    assert.equal((await dlq(['show'])).code, 2);
    assert.equal((await dlq(['list', '--bogus'])).code, 2);
  });

  test('Redis unreachable: exit 1 with a clear message, password hidden', async () => {
    const result = await runCommand(dlqCommand, ['list', '--config', 'config'], {
      cwd,
      env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:1', CAMS_REDIS_PREFIX: prefix },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Redis at redis:\/\/:REDACTED@127\.0\.0\.1:1 is unreachable/);
    assert.ok(!result.stderr.includes('hunter2'));
  });

  test('replay re-runs a dead-lettered receipt through the failed handler exactly once', async () => {
    await clear();
    const [submitted] = await pipeline.sink.submit([statusEnvelope('dlq-replay-1')]);
    assert.ok(submitted);
    assert.equal(await pipeline.completions?.wait('ChatAppStatus', submitted.jobId), 'dead_lettered');
    const key = 'dlq-replay-1|Delivered';
    assert.deepEqual(flaky.calls, [key]);
    assert.equal(steady.calls.filter(c => c.key === key).length, 1);

    const listed = await dlq(['list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout) as { count: number; entries: DeadLetterEntry[] };
    assert.equal(list.count, 1);
    const entry = list.entries[0];
    assert.ok(entry);
    assert.equal(entry.reason, 'permanent');
    assert.deepEqual(entry.handlers, ['flaky']);

    const text = await dlq(['list']);
    assert.match(
      text.stdout,
      new RegExp(`${entry.id}\\s+\\S+Z\\s+ChatAppStatus\\s+permanent\\s+flaky: downstream rejected`),
    );
    assert.match(text.stdout, /dlq-replay-1\|Delivered/);

    flaky.failing = false; // the fix is deployed
    const replayed = await dlq(['replay', entry.id, '--wait', '--json']);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    const { results } = JSON.parse(replayed.stdout) as { results: { status: string; outcomes: string[] }[] };
    assert.deepEqual(
      results.map(r => [r.status, r.outcomes]),
      [['replayed', ['completed']]],
    );
    assert.deepEqual(flaky.calls, [key, key], 'the failed handler ran once more');
    assert.equal(
      steady.calls.filter(c => c.key === key).length,
      1,
      'the handler that had completed was skipped',
    );
    assert.equal(await pipeline.deadLetters.count(), 0, 'the entry is gone');

    const again = await dlq(['replay', entry.id, '--json']);
    assert.equal(again.code, 1);
    assert.equal(
      (JSON.parse(again.stdout) as { results: { status: string }[] }).results[0]?.status,
      'not_found',
    );
    await new Promise(r => setTimeout(r, 200));
    assert.deepEqual(flaky.calls, [key, key], 'no third run');
    flaky.failing = true;
  });

  test('show prints the whole entry with secrets redacted; an unknown id is exit 1', async () => {
    await clear();
    const id = await pipeline.deadLetters.park({
      messageType: 'ChatAppStatus',
      source: 'http',
      reason: 'invalid',
      error: 'ChatAppStatus receipt is missing Status',
      raw: JSON.stringify({ MessageId: 'x', Signature: 'sig-abc', url: 'https://h/?SecurityToken=tok-123' }),
    });
    const shown = await dlq(['show', id]);
    assert.equal(shown.code, 0, shown.stderr);
    const body = JSON.parse(shown.stdout) as DeadLetterEntry;
    assert.equal(body.id, id);
    assert.equal(body.reason, 'invalid');
    assert.ok(!shown.stdout.includes('sig-abc') && !shown.stdout.includes('tok-123'), shown.stdout);
    assert.match(shown.stdout, /REDACTED/);
    const missing = await dlq(['show', 'no-such-id']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no entry no-such-id/);
  });

  test('replay of bodies that were not receipts: decoded again, replayed when valid now, else kept', async () => {
    await clear();
    const good = Buffer.from(JSON.stringify({ MessageId: 'dlq-raw-1', Status: 'Read' })).toString('base64');
    const stillBad = await pipeline.deadLetters.park({
      messageType: 'ChatAppStatus',
      source: 'smq',
      reason: 'decode',
      error: 'MessageBody is neither Base64 of JSON nor JSON',
      raw: 'definitely not a receipt',
      queueName: 'q',
      smq: { MessageId: 'SMQ-1', DequeueCount: 1 },
    });
    const nowValid = await pipeline.deadLetters.park({
      messageType: 'ChatAppStatus',
      source: 'smq',
      reason: 'invalid',
      error: 'ChatAppStatus receipt is missing Status',
      raw: good,
      queueName: 'q',
    });
    const listed = await dlq(['list']);
    assert.match(listed.stdout, /SMQ MessageId SMQ-1/);

    flaky.failing = false;
    const result = await dlq(['replay', '--wait', '--json']);
    assert.equal(result.code, 1, 'one entry was kept');
    const { results } = JSON.parse(result.stdout) as {
      results: { id: string; status: string; error?: string }[];
    };
    const byId = new Map(results.map(r => [r.id, r]));
    assert.equal(byId.get(stillBad)?.status, 'kept');
    assert.match(byId.get(stillBad)?.error ?? '', /still not decodable/);
    assert.equal(byId.get(nowValid)?.status, 'replayed');
    assert.ok(flaky.calls.includes('dlq-raw-1|Read'));
    assert.deepEqual(
      (await entries()).map(e => e.id),
      [stillBad],
    );
    flaky.failing = true;
  });

  test('purge: refuses without --yes when stdin is not a terminal; asks on a terminal; filters apply', async () => {
    await clear();
    const park = (messageType: 'ChatAppStatus' | 'ChatAppInbound') =>
      pipeline.deadLetters.park({ messageType, source: 'smq', reason: 'decode', error: 'x', raw: '?' });
    await park('ChatAppStatus');
    await park('ChatAppStatus');
    const inbound = await park('ChatAppInbound');

    const refused = await dlq(['purge']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /refusing to delete 3 entries without confirmation; stdin is not a terminal, so pass --yes/,
    );
    assert.equal(await pipeline.deadLetters.count(), 3);

    const declined = await dlq(['purge', '--type', 'ChatAppStatus'], ttyStdin('n\n'));
    assert.equal(declined.code, 1);
    assert.match(declined.stderr, /Delete 2 dead-letter entries \(type ChatAppStatus\)\? \[y\/N\]/);
    assert.equal(await pipeline.deadLetters.count(), 3);

    const confirmed = await dlq(['purge', '--type', 'ChatAppStatus'], ttyStdin('y\n'));
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.match(confirmed.stdout, /purged 2 entries/);
    assert.deepEqual(
      (await entries()).map(e => e.id),
      [inbound],
    );

    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await dlq(['purge', '--since', future, '--yes', '--json']);
    assert.equal(none.code, 0);
    assert.deepEqual(JSON.parse(none.stdout), { removed: 0 });

    const all = await dlq(['purge', '--yes', '--json']);
    assert.equal(all.code, 0);
    assert.deepEqual(JSON.parse(all.stdout), { removed: 1 });
    await eventually(async () => (await pipeline.deadLetters.count()) === 0, 1000, 'store empty');
  });
});
