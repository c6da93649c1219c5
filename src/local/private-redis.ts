import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../util/async.js';

export const REDIS_INSTALL_HINT = 'sudo apt-get install -y redis-server';

/** A throwaway redis-server on a free loopback port, keeping nothing on disk. */
export class PrivateRedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'cams-redis-'));

  private constructor(
    readonly port: number,
    private readonly ownProcessGroup: boolean,
    private readonly extraArgs: readonly string[],
    private readonly configFile?: { readonly text: string; readonly sentinel: boolean },
  ) {}

  static isInstalled(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  /**
   * `ownProcessGroup`: a Ctrl-C at the terminal does not reach the server (the demo stops it itself, after the
   * daemon drained). Off, the server dies with a Ctrl-C like the rest of the command (tests, benchmarks).
   * `args` are further redis-server options, after the defaults (`--appendonly yes` to keep data across a
   * restart, `--maxmemory 8mb`…). `configFile` is written to the server's directory and read first (Sentinel
   * needs one it can rewrite); `sentinel` runs the server as a Sentinel.
   */
  static async start({
    ownProcessGroup = false,
    args = [],
    configFile,
    sentinel = false,
  }: {
    ownProcessGroup?: boolean;
    args?: readonly string[];
    configFile?: string;
    sentinel?: boolean;
  } = {}): Promise<PrivateRedisServer> {
    const file = configFile !== undefined || sentinel ? { text: configFile ?? '', sentinel } : undefined;
    // The free port may be taken by another process before redis-server binds it: try another one.
    for (let attempt = 1; ; attempt += 1) {
      const server = new PrivateRedisServer(await freePort(), ownProcessGroup, args, file);
      try {
        await server.restart();
        return server;
      } catch (err) {
        await server.destroy();
        if (attempt >= START_ATTEMPTS || !(err instanceof ExitedEarly)) throw err;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (0 when stopped), for reading its CPU time. */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** `127.0.0.1:<port>`, as cluster and sentinel settings name nodes. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port: empty, unless `args` asked it to persist. */
  async restart(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        ...this.configArgs(),
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...this.extraArgs,
        ...(this.configFile?.sentinel ? ['--sentinel'] : []),
      ],
      { stdio: 'ignore', detached: this.ownProcessGroup },
    );
    // Time-bounded, not count-bounded: on a loaded machine each redis-cli call takes a while.
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const ping = spawnSync('redis-cli', ['-p', String(this.port), 'ping']);
      if (ping.stdout?.toString().trim() === 'PONG') return;
      if (this.child.exitCode !== null) throw new ExitedEarly(this.port, this.child.exitCode);
      await sleep(25);
    }
    throw new Error(`redis-server did not start on port ${this.port} within ${START_TIMEOUT_MS} ms`);
  }

  /** The config file goes first on redis-server's command line; it is written once, then the server owns it. */
  private configArgs(): string[] {
    if (!this.configFile) return [];
    const path = join(this.dir, 'redis.conf');
    if (!existsSync(path)) writeFileSync(path, this.configFile.text);
    return [path];
  }

  /** Kills the server at once, as a crash or an outage would. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>(resolve => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** How long a starting server gets to answer PING. */
const START_TIMEOUT_MS = 20_000;
/** Ports tried before a start gives up. */
const START_ATTEMPTS = 5;

/** redis-server exited before it answered: most often its port was taken meanwhile. */
class ExitedEarly extends Error {
  constructor(port: number, code: number | null) {
    super(`redis-server exited (code ${code}) before it answered on port ${port}`);
    this.name = 'ExitedEarly';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
