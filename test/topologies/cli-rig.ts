import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { PrivateRedisCluster } from '../../src/local/private-cluster.js';
import { PrivateRedisSentinel } from '../../src/local/private-sentinel.js';
import { eventually, freePort, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { tempDir } from '../ops/helpers.js';
import { writeConfigDir } from '../daemon/harness.js';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));
const HEALABLE = fileURLToPath(new URL('../fixtures/handlers/healable.mjs', import.meta.url));

export const DASHBOARD_USER = 'ops';
export const DASHBOARD_PASSWORD = 'dashboard-pw-0123';
/** Receipts whose MessageId starts with this fail until the rig is healed. */
export const FAIL_PREFIX = 'poison-';

/** One of the three Redis forms, started by the test, as the configuration's `redis` section names it. */
export interface RedisForm {
  readonly name: 'standalone' | 'Sentinel' | 'Cluster';
  readonly redis: Record<string, unknown>;
  /** What check-config and stats say they found. */
  readonly topology: RegExp;
  close(): Promise<void>;
}

export async function startForm(name: RedisForm['name']): Promise<RedisForm> {
  if (name === 'Cluster') {
    const cluster = await PrivateRedisCluster.start({ replicasPerMaster: 0 });
    return {
      name,
      redis: { cluster: { nodes: cluster.nodes } },
      topology: /cluster: 3 masters, state ok; prefix slot \d+ on 127\.0\.0\.1:\d+/,
      close: () => cluster.destroy(),
    };
  }
  if (name === 'Sentinel') {
    const sentinel = await PrivateRedisSentinel.start();
    const port = await sentinel.masterPort();
    return {
      name,
      redis: { sentinel: { nodes: sentinel.sentinels, name: sentinel.name } },
      topology: new RegExp(
        `sentinel: master "cams" at 127\\.0\\.0\\.1:${port} \\(3 of 3 sentinels answered\\)`,
      ),
      close: () => sentinel.destroy(),
    };
  }
  const port = new URL(redisUrl()).port;
  return {
    name,
    redis: { url: redisUrl() },
    topology: new RegExp(`standalone 127\\.0\\.0\\.1:${port} \\(Redis \\d+\\.\\d+\\.\\d+\\)`),
    close: async () => undefined,
  };
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every process the rig starts: production, and no REDIS_URL from the suite, so the
 * configuration file alone says which form to use.
 */
function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', REDIS_URL: '' };
}

/** `cams-receipts <args>` as its own process, as an operator runs it. */
export function runCli(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    child.on('error', reject);
    child.on('exit', code => resolve({ code, stdout, stderr }));
  });
}

/** The daemon (`cams-receipts start`) with its HTTP server and dashboard, on one Redis form. */
export interface CliRig {
  readonly emulator: EmulatorHandle;
  readonly configDir: string;
  readonly httpUrl: string;
  readonly healedPath: string;
  readonly output: string[];
  /** `cams-receipts <args> --config <the rig's directory>`. */
  cli(...args: string[]): Promise<Run>;
  close(): Promise<void>;
}

export async function startCliRig(
  form: Pick<RedisForm, 'name' | 'redis'>,
  prefix = uniquePrefix('cli'),
): Promise<CliRig> {
  const emulator = await startEmulator({ port: 0 });
  const port = await freePort();
  const healedPath = join(tempDir(), 'healed');
  const configDir = writeConfigDir(emulator, {
    redis: form.redis,
    prefix,
    handlers: [{ module: HEALABLE, options: { failPrefix: FAIL_PREFIX, healedPath } }],
    extra: {
      pipeline: { attempts: 1 },
      http: { port },
      admin: { dashboard: { enabled: true, username: DASHBOARD_USER, password: DASHBOARD_PASSWORD } },
    },
  });
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'start', '--config', configDir], {
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  daemon.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const httpUrl = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise(resolve => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    await emulator.close();
  };
  try {
    await eventually(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`the daemon exited: ${output.join('')}`);
        return (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200;
      },
      60_000,
      `the daemon on ${form.name} to be ready (output: ${output.join('')})`,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    emulator,
    configDir,
    httpUrl,
    healedPath,
    output,
    cli: (...args) => runCli([...args, '--config', configDir], configDir),
    close,
  };
}
