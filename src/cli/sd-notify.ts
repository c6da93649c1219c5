import { spawn } from 'node:child_process';

/**
 * Tells systemd (`Type=notify`) that the daemon is ready, when it runs under a unit that asked
 * (`NOTIFY_SOCKET` set). Node cannot send a unix datagram itself, so `systemd-notify` sends it, naming this
 * process as the main one (the unit needs `NotifyAccess=all` for a message from a child). Resolves with the
 * problem, if any, instead of throwing: a failed notification shows in the log, and systemd's start
 * timeout does the rest.
 */
export function notifySystemdReady(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): Promise<string | undefined> {
  if (!env['NOTIFY_SOCKET']) return Promise.resolve(undefined);
  return new Promise(resolve => {
    const child = spawn('systemd-notify', ['--ready', `--pid=${pid}`], {
      env: { ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', err => resolve(`systemd-notify could not run: ${err.message}`));
    child.once('exit', code =>
      resolve(code === 0 ? undefined : `systemd-notify exited ${code}: ${stderr.trim()}`),
    );
  });
}
