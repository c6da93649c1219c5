import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const PM2 = join(ROOT, 'node_modules/.bin/pm2');
const APP = 'cams-receipts';

/** Every line of a JSON-lines log that parses, in order. */
function events(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap(line => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

describe('PM2 runs ecosystem.config.js', () => {
  let emulator: EmulatorHandle | undefined;
  const home = tempDir({}, 'cams-pm2-home-');
  let env: NodeJS.ProcessEnv = {};
  const pm2 = (...args: string[]) => run(PM2, args, { cwd: ROOT, env, timeout: 60_000 });

  after(async () => {
    // Stop the private PM2 daemon (and its apps) even when the test failed half-way.
    await pm2('kill').catch(() => undefined);
    const pidFile = join(home, 'pm2.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await emulator?.close();
  });

  test('start waits for ready, receipts flow, and pm2 stop (SIGINT) drains cleanly with exit 0', async () => {
    emulator = await startEmulator({ port: 0, ratePerSecond: 30 });
    await emulator.inject({ count: 60 });
    const configDir = tempDir({
      'default.json': {
        smq: {
          endpoint: emulator.endpoint,
          tokenEndpoint: emulator.endpoint,
          accountId: emulator.accountId,
          waitSeconds: 1,
        },
        handlers: ['log'],
      },
      'queues/cams.yaml': Object.entries(emulator.queues)
        .map(([type, queue]) => `- { messageType: ${type}, queueName: ${queue} }`)
        .join('\n'),
    });
    env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    Object.assign(env, {
      PM2_HOME: home,
      CAMS_CONFIG_DIR: configDir,
      REDIS_URL: redisUrl(),
      CAMS_REDIS_PREFIX: uniquePrefix('ops-pm2'),
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret,
    });

    // No --env: the file's default env is production.
    const started = await pm2('start', join(ROOT, 'ecosystem.config.js'));
    assert.match(started.stdout + started.stderr, /wait_ready/, 'PM2 waited for the ready message');
    const list = JSON.parse((await pm2('jlist')).stdout) as {
      name: string;
      pm2_env: { status: string; restart_time: number };
    }[];
    const app = list.find(a => a.name === APP);
    assert.equal(app?.pm2_env.status, 'online');
    assert.equal(app?.pm2_env.restart_time, 0, 'no crash loop');

    const outLog = join(home, 'logs', `${APP}-out.log`);
    await eventually(
      () => events(outLog).some(e => e['event'] === 'daemon_started'),
      5000,
      'daemon_started logged',
    );
    const started0 = events(outLog).find(e => e['event'] === 'daemon_started');
    assert.equal(started0?.['level'], 'info', 'production: one JSON object per line');
    // The default 256 slots per type run as 4 BullMQ workers of 64.
    assert.deepEqual(started0?.['workersPerType'], [64, 64, 64, 64]);

    // The preloaded receipts are processed and deleted while the generator keeps adding more.
    const deleted = () => Object.values(emulator?.stats().queues ?? {}).reduce((n, q) => n + q.deleted, 0);
    await eventually(() => deleted() >= 60, 30_000, '60 receipts processed and deleted');

    await pm2('stop', APP);
    const log = events(outLog);
    const stopping = log.findIndex(e => e['event'] === 'daemon_stopping');
    const stopped = log.findIndex(e => e['event'] === 'daemon_stopped');
    assert.ok(stopping >= 0 && stopped > stopping, 'drained: stopping, then stopped');
    assert.ok(!log.some(e => e['event'] === 'drain_timeout'), 'within the drain deadline');
    const pm2Log = readFileSync(join(home, 'pm2.log'), 'utf8');
    assert.match(pm2Log, /App \[cams-receipts:0\] exited with code \[0\] via signal \[SIGINT\]/);
    // Nothing left leased: every message the daemon received was deleted.
    for (const [queue, stats] of Object.entries(emulator.stats().queues)) {
      assert.equal(stats.inFlight, 0, `${queue}: nothing in flight`);
      assert.equal(stats.deleted, stats.received, `${queue}: every received message deleted`);
    }
  });
});
