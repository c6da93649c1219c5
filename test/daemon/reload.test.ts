import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { TokenProvider } from '../../src/smq/token-provider.js';
import { Daemon } from '../../src/daemon.js';
import { startEmulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { recordingHandler } from '../pipeline/harness.js';
import { startRig, writeConfigDir } from './harness.js';

function statusReceipts(prefix: string, n: number): Record<string, string | number>[] {
  return Array.from({ length: n }, (_, i) => ({ MessageId: `${prefix}-${i}`, Status: 'Read', Timestamp: 1 }));
}

test('a reload under load starts a new loop, drains a removed one, keeps the rest running, and loses nothing', async () => {
  const h = recordingHandler('h', { delayMs: 5 });
  const rig = await startRig([h]);
  const extra = 'Alicom-Queue-1234567890123456-ChatAppStatus-2';
  rig.emulator.declareQueue('ChatAppStatus', extra);
  try {
    const load = setInterval(() => {
      void rig.emulator.inject({
        messageType: 'ChatAppStatus',
        receipts: statusReceipts(`load-${Date.now()}`, 5),
      });
    }, 50);
    await rig.emulator.inject({ queueName: extra, receipts: statusReceipts('early-extra', 10) });
    await new Promise(r => setTimeout(r, 300));
    const queues = [
      { messageType: 'ChatAppInbound', queueName: rig.emulator.queues['ChatAppInbound'] },
      { messageType: 'ChatAppStatus', queueName: rig.emulator.queues['ChatAppStatus'] },
      { messageType: 'ChatAppStatus', queueName: extra },
    ];
    writeFileSync(join(rig.configDir, 'queues', 'cams.json'), JSON.stringify(queues));
    const next = loadConfig({ cwd: rig.configDir, env: {}, configDir: rig.configDir });
    const result = await rig.daemon.reload(next);
    assert.equal(result.started.length, 1);
    assert.match(result.started[0] ?? '', /ChatAppStatus-2/);
    assert.equal(result.stopped.length, 1);
    assert.match(result.stopped[0] ?? '', /ChatAppAudit/);
    assert.equal(rig.daemon.consumerHealth().consumers.length, 3);
    await new Promise(r => setTimeout(r, 300));
    clearInterval(load);
    await rig.emulator.inject({
      messageType: 'ChatAppAudit',
      receipts: [{ WabaId: 'w', TemplateCode: 't', AuditStatus: 'pass', Type: 'template', Language: 'en' }],
    });
    const stats = () => rig.emulator.stats().queues;
    await eventually(
      () => {
        const s = stats();
        const status = s[rig.emulator.queues['ChatAppStatus'] ?? ''];
        const second = s[extra];
        return status?.deleted === status?.sent && second?.deleted === second?.sent;
      },
      20_000,
      'every status message on both queues deleted',
    );
    const audit = stats()[rig.emulator.queues['ChatAppAudit'] ?? ''];
    assert.equal(audit?.visible, 1, 'the removed loop no longer polls: its new message stays in SMQ');
    const keys = h.calls.map(c => c.key);
    assert.equal(new Set(keys).size, keys.length, 'nothing handled twice across the reload');
    const sent = Object.entries(stats())
      .filter(([name]) => name !== rig.emulator.queues['ChatAppAudit'])
      .reduce((n, [, q]) => n + q.sent, 0);
    assert.equal(keys.length, sent, 'every message on the kept and added queues handled');
  } finally {
    await rig.close();
  }
});

test('a reload with invalid handlers is rejected and the running setup stays in force', async () => {
  const h = recordingHandler('h');
  const rig = await startRig([h]);
  try {
    writeFileSync(
      join(rig.configDir, 'queues', 'cams.json'),
      JSON.stringify([{ messageType: 'Nope', queueName: 'x' }]),
    );
    assert.throws(() => loadConfig({ cwd: rig.configDir, env: {}, configDir: rig.configDir }), /messageType/);
    assert.equal(rig.daemon.consumerHealth().consumers.length, 3, 'still polling the three queues');
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('after', 3) });
    await eventually(() => h.calls.length === 3, 10_000, 'receipts still handled');
  } finally {
    await rig.close();
  }
});

test('a reload that removes a queue drops its token: readiness stays green after that token would have expired', async () => {
  const rig = await startRig([recordingHandler('h')], { emulator: { tokenTtlSeconds: 3 } });
  const audit = rig.emulator.queues['ChatAppAudit'] ?? '';
  const tokens = () => (rig.daemon as unknown as { tokens: TokenProvider }).tokens.status();
  try {
    await rig.daemon.health.check();
    const removeAuditQueue = async () => {
      writeFileSync(
        join(rig.configDir, 'queues', 'cams.json'),
        JSON.stringify([
          { messageType: 'ChatAppInbound', queueName: rig.emulator.queues['ChatAppInbound'] },
          { messageType: 'ChatAppStatus', queueName: rig.emulator.queues['ChatAppStatus'] },
        ]),
      );
      await rig.daemon.reload(loadConfig({ cwd: rig.configDir, env: {}, configDir: rig.configDir }));
    };
    // Removed at once, while its first token may still be on its way: it must stay forgotten.
    await removeAuditQueue();
    await new Promise(r => setTimeout(r, 4_000));
    assert.deepEqual(
      tokens()
        .map(t => t.queueName)
        .sort(),
      [rig.emulator.queues['ChatAppInbound'], rig.emulator.queues['ChatAppStatus']].sort(),
    );
    const readiness = await rig.daemon.health.check();
    assert.equal(readiness.ok, true, JSON.stringify(readiness.parts));
    assert.equal(readiness.parts[`token:${audit}`], undefined, 'the removed queue has no token part');
    const metrics = await rig.daemon.metrics.registry.metrics();
    const expiry = metrics
      .split('\n')
      .filter(l => l.startsWith('cams_receipts_token_expiry_timestamp_seconds{'));
    assert.equal(expiry.length, 2, `an expiry series for each remaining queue: ${expiry.join(' ')}`);
    assert.ok(!expiry.some(l => l.includes(audit)), 'none for the removed queue');
  } finally {
    await rig.close();
  }
});

test('a reload closes the replaced handlers only after the attempts that started on them have ended', async () => {
  const emulator = await startEmulator({ port: 0 });
  const module = fileURLToPath(new URL('../fixtures/handlers/slow-closer.mjs', import.meta.url));
  const configDir = writeConfigDir(emulator, {
    redisUrl: redisUrl(),
    prefix: uniquePrefix('reload-close'),
    handlers: [{ module, options: { delayMs: 1500 } }],
  });
  const config = loadConfig({ cwd: configDir, env: {}, configDir });
  const daemon = new Daemon({ config, logger: silentLogger() });
  const log = () =>
    (globalThis as { __slowCloserLog?: { copy: string; what: string; at: number }[] }).__slowCloserLog ?? [];
  try {
    await daemon.start();
    await emulator.inject({ messageType: 'ChatAppStatus', receipts: statusReceipts('slow', 1) });
    await eventually(() => log().some(e => e.what === 'start'), 10_000, 'the handler started');
    const first = log().find(e => e.what === 'start')!.copy;
    const result = await daemon.reload(loadConfig({ cwd: configDir, env: {}, configDir }));
    assert.equal(result.handlersReloaded, true);
    assert.ok(!log().some(e => e.copy === first && e.what === 'close'), 'not closed while its attempt runs');
    await eventually(
      () => log().some(e => e.copy === first && e.what === 'close'),
      15_000,
      'closed afterwards',
    );
    const end = log().find(e => e.copy === first && e.what === 'end');
    const close = log().find(e => e.copy === first && e.what === 'close');
    assert.ok(end && close && close.at >= end.at, 'closed after the attempt ended');
  } finally {
    await daemon.stop();
    await emulator.close();
  }
});
