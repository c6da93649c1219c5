import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/cams-receipts.js', import.meta.url));
const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the cams-receipts command', () => {
  test('--version prints the package version; --help lists it', async () => {
    for (const flag of ['--version', '-v']) {
      const run = await cli([flag]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `cams-receipts ${PKG.version}\n`);
    }
    const help = await cli(['--help']);
    assert.match(help.stdout, /--version/);
  });

  test('every command that reads the configuration honours CAMS_CONFIG_DIR', async () => {
    const env = { CAMS_CONFIG_DIR: '/nonexistent/cams-config-dir' };
    for (const args of [['start'], ['check-config'], ['stats'], ['dlq', 'list']]) {
      const run = await cli(args, env);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      const output = run.stdout + run.stderr;
      assert.match(output, /config directory not found \(from CAMS_CONFIG_DIR\)/, args.join(' '));
      assert.match(output, /\/nonexistent\/cams-config-dir/, args.join(' '));
    }
  });
});
