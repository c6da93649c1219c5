import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ConfigError } from '../../src/errors.js';

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory holding `files` (objects are written as JSON); returns its path. */
export function tempDir(
  files: Readonly<Record<string, string | object>> = {},
  prefix = 'cams-config-',
): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** The lines of the ConfigError `load` throws, which lists several problems a line each. */
export function problemLines(load: () => unknown): string[] {
  let lines: string[] = [];
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    lines = err.message.split('\n');
    return true;
  });
  return lines;
}
