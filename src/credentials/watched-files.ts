import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The files the credential chain reads profiles from: the shared credentials file
 * (`ALIBABA_CLOUD_CREDENTIALS_FILE`, default `~/.alibabacloud/credentials`) and the Alibaba Cloud CLI
 * configuration (`~/.aliyun/config.json`).
 */
export function profileFiles(env: Env): string[] {
  const home = env['HOME'] || homedir();
  return [
    env['ALIBABA_CLOUD_CREDENTIALS_FILE'] || join(home, '.alibabacloud', 'credentials'),
    join(home, '.aliyun', 'config.json'),
  ];
}

async function fingerprint(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * Tells whether any of a few files changed (created, removed, rewritten) since the last look. Looks at
 * most once per `intervalMs`, so a caller on a hot path pays a few `stat` calls a second at most.
 */
export class WatchedFiles {
  #last?: string;
  #checkedAtMs = -Infinity;

  constructor(
    private readonly paths: readonly string[],
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async changed(): Promise<boolean> {
    const now = this.now();
    if (now - this.#checkedAtMs < this.intervalMs) return false;
    this.#checkedAtMs = now;
    const current = (await Promise.all(this.paths.map(fingerprint))).join('|');
    const changed = this.#last !== undefined && current !== this.#last;
    this.#last = current;
    return changed;
  }
}
