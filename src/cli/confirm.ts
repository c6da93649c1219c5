import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CliIo } from './io.js';

/** True when stdin is a terminal someone can answer on. */
export function isInteractive(stdin: Readable): boolean {
  return (stdin as Readable & { isTTY?: boolean }).isTTY === true;
}

/** Asks on stderr and reads one line from stdin; anything but y/yes is a no. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    const answer = await new Promise<string>(resolve => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
      io.shutdown.addEventListener('abort', () => resolve(''), { once: true });
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
