import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

test('the README stays an overview: at most 350 lines, the reference lives in docs/', () => {
  const lines = readme.trimEnd().split('\n').length;
  assert.ok(lines <= 350, `README.md has ${lines} lines; move reference material to docs/`);
});

test('the source-tree table lists every folder and top-level file of src/, and nothing else', () => {
  const actual = readdirSync(join(repo, 'src'))
    .map(name => (statSync(join(repo, 'src', name)).isDirectory() ? `src/${name}/` : `src/${name}`))
    .sort();
  const listed = [...readme.matchAll(/^\| `(src\/[^`]+)` \|/gm)].map(m => m[1]).sort();
  assert.deepEqual(listed, actual);
});

test("the README keeps CI's test command", () => {
  assert.match(readme, /^npm run setup && npm test\b/m);
  assert.match(readFileSync(join(repo, '.ci/run'), 'utf8'), /^npm run setup\nnpm test$/m);
});
