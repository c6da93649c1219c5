import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Stats } from '../../src/cli/stats.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { eventually } from '../helpers/redis.js';
import {
  DASHBOARD_PASSWORD,
  DASHBOARD_USER,
  FAIL_PREFIX,
  startCliRig,
  startForm,
  type CliRig,
  type RedisForm,
} from './cli-rig.js';

const GOOD = 20;

interface Entry {
  readonly id: string;
  readonly reason: string;
  readonly messageType: string;
}

async function entries(rig: CliRig): Promise<Entry[]> {
  const run = await rig.cli('dlq', 'list', '--json');
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { entries: Entry[] }).entries;
}

/**
 * The operator's commands, each its own `cams-receipts` process, and the dashboard of a running daemon, on
 * one Redis form started for this file. The daemon handles 20 receipts and parks two: one its handler fails
 * (replayed once healed) and one SMQ body that is not a receipt (purged).
 */
export function describeCliOn(name: RedisForm['name']): void {
  describe(`the CLI and the dashboard on ${name} Redis`, () => {
    let form: RedisForm;
    let rig: CliRig;

    before(async () => {
      form = await startForm(name);
      rig = await startCliRig(form);
      const receipts = Array.from({ length: GOOD }, (_, i) => ({
        MessageId: `ok-${i}`,
        Status: 'Delivered',
        Timestamp: 1,
      }));
      receipts.push({ MessageId: `${FAIL_PREFIX}1`, Status: 'Delivered', Timestamp: 1 });
      await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts });
      await rig.emulator.inject({ messageType: 'ChatAppInbound', bodies: ['not a receipt at all'] });
      await eventually(
        () => Object.values(rig.emulator.stats().queues).reduce((n, q) => n + q.deleted, 0) === GOOD + 2,
        30_000,
        'every SMQ message handled or parked, and deleted',
      );
    });
    after(async () => {
      await rig?.close();
      await form?.close();
    });

    test('check-config connects and names the topology it found', async () => {
      const run = await rig.cli('check-config');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^redis: ${form.topology.source}`, 'm'));
    });

    test('stats counts the jobs and the dead letters, and says where', async () => {
      const json = await rig.cli('stats', '--json');
      assert.equal(json.code, 0, json.stderr);
      const stats = JSON.parse(json.stdout) as Stats;
      assert.equal(stats.redis.available, true, stats.redis.reason);
      assert.match(stats.redis.topology ?? '', form.topology);
      assert.equal(stats.bullmq.ChatAppStatus?.completed, GOOD);
      assert.equal(stats.deadLetters, 2);
      const text = await rig.cli('stats');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^Redis: ${form.topology.source}`, 'm'));
      assert.match(text.stdout, /^Dead-letter store: 2 entries$/m);
    });

    test('the dashboard of the running daemon lists the queues and their jobs', async () => {
      const authorization = `Basic ${Buffer.from(`${DASHBOARD_USER}:${DASHBOARD_PASSWORD}`).toString('base64')}`;
      const page = await fetch(`${rig.httpUrl}/admin`, { headers: { authorization } });
      assert.equal(page.status, 200);
      const res = await fetch(`${rig.httpUrl}/admin/api/queues`, { headers: { authorization } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
      assert.deepEqual(body.queues.map(q => q.name).sort(), [...MESSAGE_TYPES].sort());
      assert.equal(body.queues.find(q => q.name === 'ChatAppStatus')?.counts['completed'], GOOD);
    });

    test('dlq list and show read the parked receipts', async () => {
      const parked = await entries(rig);
      assert.deepEqual(parked.map(e => `${e.messageType}:${e.reason}`).sort(), [
        'ChatAppInbound:decode',
        'ChatAppStatus:failed',
      ]);
      const failed = parked.find(e => e.reason === 'failed');
      const show = await rig.cli('dlq', 'show', failed?.id ?? '');
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`"MessageId": "${FAIL_PREFIX}1"`));
    });

    test('dlq replay --wait runs a healed receipt through the daemon; dlq purge deletes the rest', async () => {
      const parked = await entries(rig);
      const failed = parked.find(e => e.reason === 'failed');
      const decode = parked.find(e => e.reason === 'decode');
      writeFileSync(rig.healedPath, 'yes');
      const replay = await rig.cli('dlq', 'replay', failed?.id ?? '', '--wait', '--timeout', '60');
      assert.equal(replay.code, 0, `${replay.stdout}\n${replay.stderr}`);
      assert.match(replay.stdout, /replayed as job .* → completed\n1 of 1 replayed$/m);
      const purge = await rig.cli('dlq', 'purge', decode?.id ?? '', '--yes');
      assert.equal(purge.code, 0, purge.stderr);
      assert.match(purge.stdout, /^purged 1 entry$/m);
      assert.deepEqual(await entries(rig), []);
      const stats = JSON.parse((await rig.cli('stats', '--json')).stdout) as Stats;
      assert.equal(stats.bullmq.ChatAppStatus?.completed, GOOD + 1);
      assert.equal(stats.deadLetters, 0);
    });
  });
}
