// The daemon under test: a configuration directory with production settings (only the endpoints,
// credentials, Redis and the benchmark handler are set), and the built CLI as its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorProcess, QueueSpec } from './emulator-process.js';
import { cpuMsOf, killAndWait, memoryOf } from './system.js';

const here = dirname(fileURLToPath(import.meta.url));
export const COUNT_HANDLER = join(here, 'count-handler.mjs');

export interface DaemonSetup {
  readonly emulator: EmulatorProcess;
  /** The Redis the benchmark handler records in; the daemon's too, unless `redis` says otherwise. */
  readonly redisUrl: string;
  /** The daemon's `redis` section (a cluster, a Redis of its own), when it is not `redisUrl`. */
  readonly redis?: Record<string, unknown>;
  readonly queues: readonly QueueSpec[];
  /** Options for the benchmark handler (delayMs, prefix…). */
  readonly handler?: Record<string, unknown>;
  /** Settings layered over the defaults; the benchmark leaves them empty unless a scenario says so. */
  readonly extra?: Record<string, unknown>;
}

/** Writes `<dir>/default.json` and `<dir>/queues/bench.json`; returns the directory. */
export function writeDaemonConfig(setup: DaemonSetup): string {
  const dir = mkdtempSync(join(tmpdir(), 'cams-bench-config-'));
  mkdirSync(join(dir, 'queues'));
  const { emulator } = setup;
  const config = deepMerge(
    {
      redis: setup.redis ?? { url: setup.redisUrl },
      smq: { endpoint: emulator.endpoint, accountId: emulator.accountId, tokenEndpoint: emulator.endpoint },
      credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
      handlers: [{ module: COUNT_HANDLER, options: { redisUrl: setup.redisUrl, ...setup.handler } }],
    },
    setup.extra ?? {},
  );
  writeFileSync(join(dir, 'default.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'queues', 'bench.json'), JSON.stringify(setup.queues, null, 2));
  return dir;
}

export interface DaemonProcess {
  readonly pid: number;
  cpuMs(): number;
  memory(): { rssMb: number; peakMb: number };
  /** SIGTERM, then waits for the drain and exit. */
  stop(): Promise<void>;
}

/** The node flags production runs with: what ecosystem.config.js gives PM2 (and the systemd unit repeats). */
export function productionNodeArgs(): string[] {
  const file = join(here, '..', '..', 'ecosystem.config.js');
  return (createRequire(import.meta.url)(file) as { NODE_ARGS: string[] }).NODE_ARGS;
}

/**
 * Starts `node <production flags> <build>/main.js start --config <dir>` and resolves once it reports ready.
 * `execArgv` comes after the production flags, so it can override them.
 */
export async function startDaemon(
  buildDir: string,
  configDir: string,
  options: { logFile: string; execArgv?: readonly string[] },
): Promise<DaemonProcess> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...productionNodeArgs(),
      ...(options.execArgv ?? []),
      join(buildDir, 'main.js'),
      'start',
      '--config',
      configDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`daemon not ready after 30 s; see ${options.logFile}`)),
      30_000,
    );
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} during startup; see ${options.logFile}`));
    });
  });
  const pid = child.pid ?? 0;
  return {
    pid,
    cpuMs: () => cpuMsOf(pid),
    memory: () => memoryOf(pid),
    stop: async () => {
      await killAndWait(child, 'SIGTERM', 60_000);
      await new Promise<void>(resolve => log.end(() => resolve()));
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(v) && isObject(prev) ? deepMerge(prev, v) : v;
  }
  return out;
}
