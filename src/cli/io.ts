import type { Readable, Writable } from 'node:stream';

/** Everything a CLI command may use from the process; only src/main.ts builds it. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly shutdown: AbortSignal;
  /** Registers a SIGHUP listener. */
  onReload(listener: () => void): void;
  /** Tells a supervisor (PM2 `wait_ready`) that the daemon is up. */
  notifyReady(): void;
}

/** A subcommand: parses its own arguments and returns the exit code. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;

export function writeLine(stream: Writable, line: string): void {
  stream.write(line.endsWith('\n') ? line : line + '\n');
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(io: Pick<CliIo, 'env'>, stream: Writable): boolean {
  if (io.env['NO_COLOR']) return false;
  return (stream as Writable & { isTTY?: boolean }).isTTY === true;
}
