import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { problemLines, tempDir } from './fixtures.js';

function load(cwd: string) {
  return loadConfig({ cwd, env: {} });
}

function assertConfigError(fn: () => unknown, file: string, key: string | undefined, reason: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.key, key);
    assert.match(err.message, reason);
    return true;
  });
}

const q = (type: string, extra: object = {}) => ({
  messageType: type,
  queueName: `Alicom-Queue-1-${type}`,
  ...extra,
});

describe('queue files', () => {
  test('YAML and JSON files, one object or a list, with smq.* defaults and overrides', () => {
    const cwd = tempDir({
      'config/default.json': { smq: { maxInFlight: 50, endpoint: 'http://127.0.0.1:9100/' } },
      'config/queues/a.yaml': [
        '- messageType: ChatAppInbound',
        '  queueName: Alicom-Queue-1-ChatAppInbound',
        '  waitSeconds: 5',
        '- messageType: ChatAppAudit',
        '  queueName: Alicom-Queue-1-ChatAppAudit',
        '  auth: static',
        '  endpoint: https://99.mns.ap-southeast-1.aliyuncs.com/',
        '',
      ].join('\n'),
      'config/queues/b.json': q('ChatAppStatus', { batchSize: 4, maxInFlight: 8 }),
      'config/queues/c.yml': '# nothing here yet\n',
      'config/queues/d.yaml.sample': 'not: [valid',
      'config/queues/.e.yaml': 'not: [valid',
    });
    const { consumers } = load(cwd);
    assert.deepEqual(consumers, [
      {
        file: 'config/queues/a.yaml',
        messageType: 'ChatAppInbound',
        queueName: 'Alicom-Queue-1-ChatAppInbound',
        auth: 'cams',
        endpoint: 'http://127.0.0.1:9100',
        maxInFlight: 50,
        waitSeconds: 5,
        batchSize: 16,
      },
      {
        file: 'config/queues/a.yaml',
        messageType: 'ChatAppAudit',
        queueName: 'Alicom-Queue-1-ChatAppAudit',
        auth: 'static',
        endpoint: 'https://99.mns.ap-southeast-1.aliyuncs.com',
        maxInFlight: 50,
        waitSeconds: 30,
        batchSize: 16,
      },
      {
        file: 'config/queues/b.json',
        messageType: 'ChatAppStatus',
        queueName: 'Alicom-Queue-1-ChatAppStatus',
        auth: 'cams',
        endpoint: 'http://127.0.0.1:9100',
        maxInFlight: 8,
        waitSeconds: 30,
        batchSize: 4,
      },
    ]);
  });

  test('an unknown key names the file and the key', () => {
    const cwd = tempDir({
      'config/queues/a.json': [q('ChatAppStatus'), q('ChatAppAudit', { visibility: 3 })],
    });
    assertConfigError(
      () => load(cwd),
      'config/queues/a.json',
      '[1].visibility',
      /unknown key \(allowed: messageType/,
    );
  });

  test('an unknown message type names the file and the key', () => {
    const cwd = tempDir({
      'config/queues/a.yaml': 'messageType: VoiceReport\nqueueName: Alicom-Queue-1-VoiceReport\n',
    });
    assertConfigError(
      () => load(cwd),
      'config/queues/a.yaml',
      'messageType',
      /one of ChatAppInbound, ChatAppStatus, ChatAppAudit, SmsReport, SmsUp \(got "VoiceReport"\)/,
    );
  });

  test('the same queue declared in two files names both files', () => {
    const cwd = tempDir({
      'config/queues/a.yaml': `- messageType: ChatAppInbound\n  queueName: Alicom-Queue-1-ChatAppInbound\n`,
      'config/queues/b.json': [q('ChatAppStatus'), q('ChatAppInbound')],
    });
    assertConfigError(
      () => load(cwd),
      'config/queues/b.json',
      '[1].queueName',
      /declared twice: first in config\/queues\/a\.yaml \(\[0\]\.queueName\)/,
    );
  });

  test('the same name at another endpoint is a different queue; a trailing slash is not', () => {
    const other = tempDir({
      'config/queues/a.json': [q('ChatAppStatus'), q('ChatAppStatus', { endpoint: 'http://127.0.0.1:9100' })],
    });
    assert.equal(load(other).consumers.length, 2);
    const same = tempDir({
      'config/queues/a.json': [
        q('ChatAppStatus', { endpoint: 'http://127.0.0.1:9100' }),
        q('ChatAppStatus', { endpoint: 'http://127.0.0.1:9100/' }),
      ],
    });
    assertConfigError(() => load(same), 'config/queues/a.json', '[1].queueName', /declared twice/);
  });

  test('values out of range or of the wrong type', () => {
    const cases: Array<[object, string, RegExp]> = [
      [q('ChatAppStatus', { batchSize: 17 }), 'batchSize', /from 1 to 16 \(got 17\)/],
      [q('ChatAppStatus', { waitSeconds: 31 }), 'waitSeconds', /from 0 to 30/],
      [q('ChatAppStatus', { maxInFlight: 0 }), 'maxInFlight', /integer from 1/],
      [q('ChatAppStatus', { waitSeconds: '10' }), 'waitSeconds', /integer/],
      [q('ChatAppStatus', { auth: 'sts' }), 'auth', /one of cams, static/],
      [q('ChatAppStatus', { endpoint: 'ftp://x' }), 'endpoint', /http:\/\/ or https:\/\//],
      [q('ChatAppStatus', { queueName: 'bad name' }), 'queueName', /SMQ queue name/],
      [{ messageType: 'ChatAppStatus' }, 'queueName', /is required/],
    ];
    for (const [consumer, key, reason] of cases) {
      const cwd = tempDir({ 'config/queues/q.json': consumer });
      assertConfigError(() => load(cwd), 'config/queues/q.json', key, reason);
    }
    const notObject = tempDir({ 'config/queues/q.json': ['ChatAppStatus'] });
    assertConfigError(() => load(notObject), 'config/queues/q.json', '[0]', /must be an object/);
  });

  test('unparsable YAML and JSON name the file and the line', () => {
    const yaml = tempDir({ 'config/queues/a.yaml': 'messageType: ChatAppStatus\nqueueName: [oops\n' });
    assertConfigError(() => load(yaml), 'config/queues/a.yaml', undefined, /invalid YAML at line \d+/);
    const dupKey = tempDir({
      'config/queues/a.yaml': 'messageType: ChatAppStatus\nmessageType: ChatAppAudit\n',
    });
    assertConfigError(() => load(dupKey), 'config/queues/a.yaml', undefined, /invalid YAML at line 2/);
    const json = tempDir({
      'config/queues/a.json': '{\n  "messageType": "ChatAppStatus"\n  "queueName": "q"\n}\n',
    });
    assertConfigError(() => load(json), 'config/queues/a.json', undefined, /invalid JSON at line 3/);
  });
  test('every problem of every queue file is reported at once, and the good consumers are still read', () => {
    const cwd = tempDir({
      'config/queues/a.json': [q('ChatAppInbound', { waitSecond: 5 }), q('ChatAppStatus')],
      'config/queues/b.json': [q('ChatAppStatus'), { queueName: 'Alicom-Queue-1-x' }],
      'config/queues/c.json': q('ChatAppAudt'),
    });
    const lines = problemLines(() => load(cwd));
    assert.equal(lines[0], '4 problems:');
    assert.match(lines[1] ?? '', /config\/queues\/a\.json: \[0\]\.waitSecond: unknown key.*"waitSeconds"/);
    assert.match(lines[2] ?? '', /config\/queues\/b\.json: \[1\]\.messageType: is required/);
    assert.match(lines[3] ?? '', /config\/queues\/b\.json: \[0\]\.queueName: queue .* declared twice/);
    assert.match(lines[4] ?? '', /config\/queues\/c\.json: messageType: .*ChatAppAudit/);
  });
});
