import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in the package.json above src/ (or dist/): the one `--version` and build_info report. */
export function packageVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return cached;
}
