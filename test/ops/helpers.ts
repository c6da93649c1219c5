import { PassThrough, type Readable } from 'node:stream';
import type { CliIo, Command } from '../../src/cli/io.js';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a CLI command in-process with captured output, as src/main.ts would. */
export async function runCommand(
  command: Command,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; stdin?: Readable },
): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIo = {
    env: opts.env ?? {},
    cwd: opts.cwd,
    stdout,
    stderr,
    stdin: opts.stdin ?? new PassThrough(),
    shutdown: new AbortController().signal,
    onReload: () => undefined,
    notifyReady: () => undefined,
  };
  const code = await command(args, io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** A stdin that looks like a terminal and answers `answer`. */
export function ttyStdin(answer: string): Readable {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  stdin.end(answer);
  return stdin;
}

export { tempDir } from '../config/fixtures.js';

/** The value of one series in Prometheus text, or undefined when the series is absent. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
