// The published package as a user gets it: npm pack, npm ci of the tarball into an empty project, then the
// README's first commands, a type-check against the shipped types, and the systemd layout (the daemon in
// /opt, a TypeScript handler in /etc) under an STS credential, against the emulator.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { assumeRole } from '../helpers/cloud.js';
import { eventually, redisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  ROOT,
  installProject,
  packHandlerDependency,
  packRepository,
  tempWork,
  type Packed,
} from './pack.js';

const run = promisify(execFile);
const work = tempWork();
const opt = join(work, 'opt');
const etc = join(work, 'etc');
let cams: Packed;
after(() => rmSync(work, { recursive: true, force: true }));

// A build and an npm ci: a minute or two on a busy machine.
before(
  () => {
    cams = packRepository(work);
    installProject(opt, [cams, packHandlerDependency(work)]);
  },
  { timeout: 300_000 },
);

/** The environment of a fresh shell: no Redis or credential settings from the test run, an empty HOME. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(REDIS_URL|CAMS_|ALIBABA_CLOUD_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  }
  const home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  return { ...env, HOME: home, ...extra };
}

interface Spawned {
  readonly child: ChildProcess;
  readonly output: string[];
  /** The exit code, or the signal that ended the process. */
  readonly exit: Promise<number | string>;
}

/**
 * `npx cams-receipts …` (or, with `direct`, the installed bin itself) in its own process group, so a signal
 * reaches it as a terminal's Ctrl-C would.
 */
function npx(args: string[], env: NodeJS.ProcessEnv, direct = false): Spawned {
  const [command, prefix] = direct
    ? [join(opt, 'node_modules/.bin/cams-receipts'), []]
    : ['npx', ['--no-install', 'cams-receipts']];
  const child = spawn(command, [...prefix, ...args], {
    cwd: opt,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const exit = new Promise<number | string>(resolve =>
    child.once('exit', (code, signal) => resolve(code ?? String(signal))),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid)
      process.kill(-child.pid, 'SIGKILL');
  });
  return { child, output, exit };
}

async function interrupt(spawned: Spawned): Promise<number | string> {
  process.kill(-(spawned.child.pid as number), 'SIGINT');
  return Promise.race([
    spawned.exit,
    new Promise<'timeout'>(resolve => setTimeout(() => resolve('timeout'), 60_000).unref()),
  ]).then(code =>
    code === 'timeout' ? assert.fail(`no exit after SIGINT:\n${spawned.output.join('')}`) : code,
  );
}

function count(output: string[], pattern: RegExp): number {
  return output.join('').match(new RegExp(pattern, 'g'))?.length ?? 0;
}

describe('the packed package, installed from its tarball', () => {
  test('ships dist/, the files the README uses, and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', cams.tarball]);
    const files = stdout.split('\n').map(f => f.replace(/^package\//, ''));
    for (const f of ['dist/main.js', 'dist/index.d.ts', 'ecosystem.config.js', 'LICENSE', 'README.md'])
      assert.ok(files.includes(f), `${f} is in the tarball`);
    for (const f of ['config/systemd/cams-receipts.service', 'config/emulator/default.json'])
      assert.ok(files.includes(f), `${f} is in the tarball`);
    assert.ok(files.includes('examples/handlers/status-tracker.ts'));
    assert.ok(!files.some(f => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests');
  });

  test('npx cams-receipts --version', async () => {
    const { stdout } = await run('npx', ['--no-install', 'cams-receipts', '--version'], {
      cwd: opt,
      env: cleanEnv(),
    });
    assert.equal(stdout, `cams-receipts ${cams.manifest.version}\n`);
  });

  test('npx cams-receipts demo handles receipts and stops cleanly on Ctrl-C', async () => {
    const demo = npx(['demo', '--rate', '20'], cleanEnv({ NO_COLOR: '1' }));
    await eventually(() => count(demo.output, /receipt handled/) >= 5, 90_000, 'five receipts handled');
    // npm exec, once its child has exited, ends itself by the signal it got: the daemon's own exit code
    // (0) is asserted in the systemd-layout test below, which runs the installed bin directly.
    assert.ok(['SIGINT', 0].includes(await interrupt(demo)), demo.output.join(''));
    const output = demo.output.join('');
    assert.match(output, /"event":"daemon_stopped"/);
    assert.doesNotMatch(output, /exiting now|unhandled rejection|"level":"error"/);
    assert.ok(!output.includes('\u001b['), 'no ANSI colour when the output is a pipe');
  });

  test('a handler that imports the package types type-checks, and a wrong one does not', async () => {
    const dir = join(opt, 'typed');
    mkdirSync(dir, { recursive: true });
    const tsconfig = {
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true },
    };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        ...tsconfig,
        compilerOptions: { ...tsconfig.compilerOptions, noEmit: true, types: ['node'] },
      }),
    );
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    // The user's own @types/node: the package's types use AbortSignal.
    mkdirSync(join(opt, 'node_modules/@types'), { recursive: true });
    if (!existsSync(join(opt, 'node_modules/@types/node')))
      symlinkSync(join(ROOT, 'node_modules/@types/node'), join(opt, 'node_modules/@types/node'), 'dir');
    const handler = (messageType: string) => `import { defineHandler, PermanentError } from 'cams-receipts';
import type { ChatAppStatusReceipt, HandlerContext } from 'cams-receipts';
export default defineHandler({
  name: 'typed',
  messageTypes: ['${messageType}'],
  async handle(receipt: ChatAppStatusReceipt, ctx: HandlerContext) {
    if (!receipt.Status) throw new PermanentError('no status');
    ctx.signal.throwIfAborted();
  },
});
`;
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    writeFileSync(join(dir, 'handler.ts'), handler('ChatAppStatus'));
    await run(process.execPath, [tsc, '-p', dir]);
    writeFileSync(join(dir, 'handler.ts'), handler('ChatAppStatuses'));
    const wrong = await run(process.execPath, [tsc, '-p', dir]).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    assert.match(wrong, /ChatAppStatuses/);
  });
});

describe('the systemd layout: the package in /opt, a TypeScript handler in /etc', () => {
  const KEY = { id: 'LTAI5tPackageTestKey0001', secret: 'package-test-secret-0123456789' };
  let emu: EmulatorHandle;
  before(async () => {
    emu = await startEmulator({ port: 0, accessKeys: { [KEY.id]: KEY.secret } });
  });
  after(() => emu.close());

  /** A handler with TypeScript-only syntax that imports the package and a dependency of its own. */
  const RECORDER = `import { appendFileSync } from 'node:fs';
import { defineHandler, type ChatAppStatusReceipt } from 'cams-receipts';
import { label } from 'handler-dep';

let file: string = '';
export default defineHandler({
  name: 'recorder',
  messageTypes: ['ChatAppStatus'],
  init(options: Readonly<Record<string, unknown>>): void {
    file = String(options['file']);
  },
  handle(receipt: ChatAppStatusReceipt): void {
    appendFileSync(file, label(receipt.MessageId) + '\\n');
  },
});
`;

  function writeEtc(file: string): void {
    mkdirSync(join(etc, 'handlers'), { recursive: true });
    mkdirSync(join(etc, 'queues'), { recursive: true });
    const config = {
      redis: { url: redisUrl(), prefix: uniquePrefix('package') },
      smq: { endpoint: emu.endpoint, accountId: emu.accountId, tokenEndpoint: emu.endpoint, waitSeconds: 1 },
      handlers: [{ module: './handlers/recorder.ts', options: { file } }],
      shutdown: { drainTimeoutMs: 5000 },
    };
    writeFileSync(join(etc, 'default.json'), JSON.stringify(config));
    const queues = [{ messageType: 'ChatAppStatus', queueName: emu.queues['ChatAppStatus'] }];
    writeFileSync(join(etc, 'queues/cams.json'), JSON.stringify(queues));
    writeFileSync(join(etc, 'handlers/package.json'), '{ "type": "module" }');
    writeFileSync(join(etc, 'handlers/recorder.ts'), RECORDER);
  }

  test('start runs the handler under an STS credential; Ctrl-C drains and exits 0', async () => {
    const recorded = join(work, 'recorded.txt');
    writeFileSync(recorded, '');
    writeEtc(recorded);
    const sts = await assumeRole(emu.endpoint, KEY.id, KEY.secret);
    const daemon = npx(
      ['start'],
      cleanEnv({
        NODE_ENV: 'production',
        CAMS_CONFIG_DIR: etc,
        ALIBABA_CLOUD_ACCESS_KEY_ID: sts.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: sts.accessKeySecret,
        ALIBABA_CLOUD_SECURITY_TOKEN: sts.securityToken,
      }),
      true,
    );
    await eventually(() => /"daemon_started"/.test(daemon.output.join('')), 60_000, 'the daemon started');
    await emu.inject({ messageType: 'ChatAppStatus', count: 5 });
    const lines = () => readFileSync(recorded, 'utf8').split('\n').filter(Boolean);
    await eventually(() => lines().length >= 5, 60_000, 'five receipts recorded');
    assert.ok(
      lines().every(l => l.startsWith('recorded ')),
      lines().join('\n'),
    );
    assert.equal(await interrupt(daemon), 0, daemon.output.join(''));
    const output = daemon.output.join('');
    assert.match(output, /"source":"configured key: static_sts"/);
    for (const secret of [sts.accessKeySecret, sts.securityToken]) assert.ok(!output.includes(secret));
    assert.equal(lines().length, 5, 'each receipt once');
  });
});
