import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Stats } from '../../src/cli/stats.js';
import { PrivateRedisCluster } from '../../src/local/private-cluster.js';
import { eventually, uniquePrefix } from '../helpers/redis.js';
import { startCliRig, type CliRig } from './cli-rig.js';

const RECEIPTS = 200;

/**
 * `redis.cluster.nodes` names a single master, one that does not serve the prefix's slot: every key lives
 * elsewhere, so the client must follow the slot map (MOVED) from that one node to the others.
 */
describe('cams-receipts start given only a cluster node that does not own the prefix slot', () => {
  let cluster: PrivateRedisCluster;
  let rig: CliRig;
  let owner: number;

  before(async () => {
    cluster = await PrivateRedisCluster.start({ replicasPerMaster: 0 });
    const prefix = uniquePrefix('moved');
    owner = await cluster.masterPortOf(prefix);
    const given = (await cluster.masterPorts()).find(port => port !== owner);
    rig = await startCliRig(
      { name: 'Cluster', redis: { cluster: { nodes: [`127.0.0.1:${given}`] } } },
      prefix,
    );
  });
  after(async () => {
    await rig?.close();
    await cluster?.destroy();
  });

  test('check-config names the master that serves the slot, not the node given', async () => {
    const run = await rig.cli('check-config');
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        `^redis: cluster: 3 masters, state ok; prefix slot \\d+ on 127\\.0\\.0\\.1:${owner}; 1 partition: every key on one master`,
        'm',
      ),
    );
  });

  test('every receipt is handled and deleted, with no MOVED error and no warning logged', async () => {
    const receipts = Array.from({ length: RECEIPTS }, (_, i) => ({
      MessageId: `moved-${i}`,
      Status: 'Delivered',
      Timestamp: 1,
    }));
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts });
    await eventually(
      () => Object.values(rig.emulator.stats().queues).reduce((n, q) => n + q.deleted, 0) === RECEIPTS,
      60_000,
      'every SMQ message deleted',
    );
    const stats = await rig.cli('stats', '--json');
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as Stats).bullmq.ChatAppStatus?.completed, RECEIPTS);
    const output = rig.output.join('');
    assert.doesNotMatch(output, /MOVED/);
    // The daemon logs at warn: a healthy run through the redirections logs nothing but the warning that one
    // partition keeps every key on one master.
    const lines = output.trim().split('\n');
    assert.deepEqual(
      lines.map(l => (JSON.parse(l) as { event?: string }).event),
      ['redis_single_partition'],
      output,
    );
  });
});
