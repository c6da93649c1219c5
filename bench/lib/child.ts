// Runs a benchmark helper (baseline, ceilings) in its own Node process, so it does not share the
// orchestrator's event loop, and talks to it over IPC: the child sends {type: …} messages; `stop`
// asks it to finish.
import { fork, type ChildProcess } from 'node:child_process';
import { killAndWait } from './system.js';

export interface ChildMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface Child {
  readonly pid: number;
  /** Resolves with the next message of this type (or rejects when the child exits first). */
  next(type: string, timeoutMs?: number): Promise<ChildMessage>;
  send(message: ChildMessage): void;
  /** Sends `stop`, waits for the exit (forcing it after 15 s). */
  stop(): Promise<void>;
}

export async function startChild(script: string, config: unknown): Promise<Child> {
  const child: ChildProcess = fork(script, [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: ChildMessage[] = [];
  const waiting: { type: string; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: ChildMessage) => {
    const i = waiting.findIndex(w => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(m);
    else inbox.push(m);
  });
  child.on('exit', code => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited (${code}) before "${w.type}"`));
  });
  const next = (type: string, timeoutMs = 600_000): Promise<ChildMessage> => {
    const i = inbox.findIndex(m => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as ChildMessage);
    if (child.exitCode !== null) return Promise.reject(new Error(`${script} has exited`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${script}: no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.push({
        type,
        resolve: m => (clearTimeout(timer), resolve(m)),
        reject: e => (clearTimeout(timer), reject(e)),
      });
    });
  };
  await next('ready', 30_000);
  return {
    pid: child.pid ?? 0,
    next,
    send: m => void child.send(m),
    stop: async () => {
      if (child.connected) child.send({ type: 'stop' });
      const exited = new Promise<void>(resolve => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      const timer = setTimeout(() => void killAndWait(child, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child side: its config (argv), a sender, and a handler for `stop`. */
export function childSide<T>(): {
  config: T;
  send: (m: ChildMessage) => void;
  onStop: (fn: () => void) => void;
} {
  const config = JSON.parse(process.argv[2] ?? '{}') as T;
  return {
    config,
    send: m => void process.send?.(m),
    onStop: fn =>
      void process.on('message', (m: ChildMessage) => {
        if (m.type === 'stop') fn();
      }),
  };
}
