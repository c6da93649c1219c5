import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');
const scratch = mkdtempSync(join(tmpdir(), 'cams-deps-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the project's dependency check (`npm run deps`) on `dir`; resolves with its exit code and output. */
async function check(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      depcruise,
      [dir, '--config', '.dependency-cruiser.cjs', '--no-cache'],
      { cwd: repo },
    );
    return { code: 0, output: stdout };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

function tree(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('src/ has no module cycle and no folder cycle', async () => {
  const { code, output } = await check('src');
  assert.equal(code, 0, output);
  assert.match(output, /no dependency violations found/);
});

test('a folder that imports a folder importing it back fails the check, though no module cycle exists', async () => {
  // a/one.ts → b/two.ts and b/three.ts → a/four.ts: every module is acyclic, the folders are not.
  const root = tree('folder-cycle', {
    'a/one.ts': "import { two } from '../b/two.js';\nexport const one = two + 1;\n",
    'a/four.ts': 'export const four = 4;\n',
    'b/two.ts': 'export const two = 2;\n',
    'b/three.ts': "import { four } from '../a/four.js';\nexport const three = four - 1;\n",
  });
  const { code, output } = await check(root);
  assert.notEqual(code, 0);
  assert.match(output, /no-folder-cycles/);
  assert.doesNotMatch(output, /error no-circular/);
});

test('a module cycle fails the check', async () => {
  const root = tree('module-cycle', {
    'x.ts': "import { y } from './y.js';\nexport const x = (): number => y() + 1;\n",
    'y.ts': "import { x } from './x.js';\nexport const y = (): number => x() - 1;\n",
  });
  const { code, output } = await check(root);
  assert.notEqual(code, 0);
  assert.match(output, /error no-circular/);
});

test('type-only imports count: a cycle of types between folders fails too', async () => {
  const root = tree('type-cycle', {
    'a/shape.ts':
      "import type { Colour } from '../b/colour.js';\nexport interface Shape { colour: Colour }\n",
    'a/size.ts': 'export type Size = number;\n',
    'b/colour.ts': 'export type Colour = string;\n',
    'b/paint.ts': "import type { Size } from '../a/size.js';\nexport interface Paint { litres: Size }\n",
  });
  const { code, output } = await check(root);
  assert.notEqual(code, 0);
  assert.match(output, /no-folder-cycles/);
});
