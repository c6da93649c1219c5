// The SMQ emulator as its own process (the built CLI), driven through its JSON control API.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { EmulatorStats, InjectResult } from '../../src/emulator/index.js';
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCESS_KEY_SECRET,
  DEFAULT_ACCOUNT_ID,
} from '../../src/emulator/index.js';
import { freePort, killAndWait, waitFor } from './system.js';

export interface QueueSpec {
  readonly messageType: string;
  readonly queueName: string;
}

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly pid: number;
  readonly queues: readonly QueueSpec[];
  stats(): Promise<EmulatorStats>;
  /** Declares more queues (idle and scale-out scenarios use their own). */
  declare(queue: QueueSpec): Promise<void>;
  inject(queueName: string, bodies: readonly string[]): Promise<InjectResult>;
  /** Changes some emulator faults (latencyMs…); a reset clears them. */
  faults(faults: Record<string, unknown>): Promise<void>;
  /** Empties every queue and zeroes the counters. */
  reset(): Promise<void>;
  /** Messages sent, deleted and still held, over the given queues (all when omitted). */
  totals(
    names?: readonly string[],
  ): Promise<{ sent: number; deleted: number; left: number; requests: number }>;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(
  buildDir: string,
  queues: readonly QueueSpec[],
): Promise<EmulatorProcess> {
  const port = await freePort();
  const args = [join(buildDir, 'main.js'), 'emulator', '--port', String(port), '--log-level', 'warn'];
  for (const q of queues) args.push('--queue', `${q.messageType}=${q.queueName}`);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const endpoint = `http://127.0.0.1:${port}`;
  // node:http with keep-alive rather than fetch: the latency scenario sends hundreds of requests a
  // second from this process, and fetch costs several times more CPU per request on a shared machine.
  const agent = new Agent({ keepAlive: true });
  const control = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: `/_emulator${path}`,
          agent,
          headers: payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300)
              reject(new Error(`emulator ${method} ${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as T);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const up = await waitFor(
    async () => {
      try {
        await control('GET', '/stats');
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    100,
  );
  if (!up) throw new Error('the emulator did not start');
  const stats = () => control<EmulatorStats>('GET', '/stats');
  return {
    endpoint,
    accountId: DEFAULT_ACCOUNT_ID,
    accessKeyId: DEFAULT_ACCESS_KEY_ID,
    accessKeySecret: DEFAULT_ACCESS_KEY_SECRET,
    pid: child.pid ?? 0,
    queues,
    stats,
    declare: async q => void (await control('POST', '/queues', q)),
    inject: (queueName, bodies) => control<InjectResult>('POST', '/inject', { queueName, bodies }),
    faults: async f => void (await control('PATCH', '/faults', f)),
    reset: async () => void (await control('POST', '/reset')),
    totals: async names => {
      const s = await stats();
      const t = { sent: 0, deleted: 0, left: 0, requests: s.requests };
      for (const [name, q] of Object.entries(s.queues)) {
        if (names && !names.includes(name)) continue;
        t.sent += q.sent;
        t.deleted += q.deleted;
        t.left += q.visible + q.inFlight + q.delayed;
      }
      return t;
    },
    stop: async () => {
      agent.destroy();
      await killAndWait(child, 'SIGTERM');
    },
  };
}
