import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { configSchemaDocs } from '../../src/config/schema.js';

const ROOT = resolve(import.meta.dirname, '../..');
const UNIT = join(ROOT, 'config/systemd/cams-receipts.service');

function drainTimeoutMs(): number {
  const leaf = configSchemaDocs().find(l => l.key === 'shutdown.drainTimeoutMs');
  assert.equal(typeof leaf?.default, 'number');
  return leaf?.default as number;
}

/** `Key=value` settings of a unit file, per section (repeated keys keep the last). */
function unitSettings(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section?.[1]) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return sections;
}

describe('deployment files', () => {
  test('ecosystem.config.js: loads the way PM2 loads it, and kill_timeout outlasts the drain', async () => {
    // PM2 reads the file with require() and takes its `apps` export.
    const { createRequire } = await import('node:module');
    const config = createRequire(import.meta.url)(join(ROOT, 'ecosystem.config.js')) as {
      apps: Record<string, unknown>[];
    };
    assert.equal(config.apps.length, 1);
    const app = config.apps[0] ?? {};
    assert.equal(app['name'], 'cams-receipts');
    assert.equal(app['script'], 'bin/cams-receipts.js');
    assert.deepEqual(app['args'], ['start', '--config', process.env['CAMS_CONFIG_DIR'] || './config']);
    assert.equal(app['wait_ready'], true);
    assert.ok(Number(app['kill_timeout']) > drainTimeoutMs() + 2000, 'kill_timeout above the drain deadline');
    assert.ok(Number(app['listen_timeout']) > 0);
    assert.ok(app['max_memory_restart']);
    assert.deepEqual(app['env'], { NODE_ENV: 'production' }, 'production without --env');
    assert.deepEqual(app['env_development'], { NODE_ENV: 'development' });
    assert.deepEqual(app['node_args'], ['--max-old-space-size=192']);
  });

  test('the systemd unit starts node with the flags ecosystem.config.js gives PM2', async () => {
    const { createRequire } = await import('node:module');
    const { NODE_ARGS } = createRequire(import.meta.url)(join(ROOT, 'ecosystem.config.js')) as {
      NODE_ARGS: string[];
    };
    const execStart = unitSettings(readFileSync(UNIT, 'utf8')).get('Service')?.get('ExecStart') ?? '';
    assert.equal(
      execStart,
      `/usr/bin/node ${NODE_ARGS.join(' ')} /opt/cams-receipts/node_modules/cams-receipts/bin/cams-receipts.js start --config /etc/cams-receipts`,
    );
  });

  test('the systemd unit: restart, stop timeout above the drain, reload by SIGHUP, hardening', () => {
    const unit = unitSettings(readFileSync(UNIT, 'utf8'));
    const service = unit.get('Service');
    assert.ok(service);
    assert.equal(service.get('Restart'), 'on-failure');
    assert.ok(Number(service.get('TimeoutStopSec')) * 1000 > drainTimeoutMs() + 2000);
    assert.equal(service.get('KillSignal'), 'SIGTERM');
    assert.equal(service.get('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(service.get('EnvironmentFile'), '/etc/cams-receipts/env');
    assert.equal(service.get('NoNewPrivileges'), 'true');
    assert.equal(service.get('ProtectSystem'), 'strict');
    assert.equal(service.get('PrivateTmp'), 'true');
    assert.equal(service.get('User'), 'cams-receipts');
    assert.match(service.get('ExecStart') ?? '', /bin\/cams-receipts\.js start --config /);
    assert.equal(unit.get('Install')?.get('WantedBy'), 'multi-user.target');
  });

  test('systemd-analyze verify accepts the unit (when systemd is installed)', t => {
    const probe = spawnSync('systemd-analyze', ['--version']);
    if (probe.status !== 0) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    const result = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    // Missing users or binaries on a build machine are fine; unknown keys and syntax errors are not.
    const problems = result.stderr
      .split('\n')
      .filter(l => /Unknown key|Unknown section|Invalid|Failed to parse|Missing '='/i.test(l));
    assert.deepEqual(problems, []);
  });
});
