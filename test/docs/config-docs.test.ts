import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { int, str } from '../../src/config/formats.js';
import { configSchemaDocs, type SchemaLeaf } from '../../src/config/schema.js';
import {
  describeFormat,
  renderConfigTable,
  spliceConfigTable,
  TABLE_END,
  TABLE_START,
} from '../../scripts/config-table.js';

const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** Rows of the generated table, by key. */
function tableRows(markdown: string): Map<string, string[]> {
  const table = markdown.slice(markdown.indexOf(TABLE_START), markdown.indexOf(TABLE_END));
  const rows = new Map<string, string[]>();
  for (const line of table.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map(c => c.trim());
    const key = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (key) rows.set(key, cells.slice(1, -1));
  }
  return rows;
}

test('docs/configuration.md holds the table the schema generates', () => {
  const expected = spliceConfigTable(page, configSchemaDocs());
  assert.ok(
    expected === page,
    'docs/configuration.md is out of date with src/config/schema.ts: run npm run docs:config and commit the result',
  );
});

test('every schema key has a row, and secrets show no default', () => {
  const rows = tableRows(page);
  const keys = configSchemaDocs().map(l => l.key);
  assert.deepEqual([...rows.keys()], keys);
  assert.ok(rows.has('pipeline.lockDurationMs') && rows.has('pipeline.stalledIntervalMs'));
  for (const leaf of configSchemaDocs()) {
    const [, env, byDefault] = rows.get(leaf.key) ?? [];
    assert.equal(env, leaf.env ? `\`${leaf.env}\`` : '', `${leaf.key}: env`);
    if (leaf.sensitive) assert.equal(byDefault, '—', `${leaf.key} is a secret: no default shown`);
    else assert.equal(byDefault, `\`${JSON.stringify(leaf.default)}\``, `${leaf.key}: default`);
  }
});

const leaf = (over: Partial<SchemaLeaf>): SchemaLeaf => ({
  key: 'a.b',
  doc: 'A doc.',
  format: int(1, 16),
  default: 4,
  sensitive: false,
  ...over,
});

test('the renderer hides secret defaults and escapes what a table cell cannot hold', () => {
  const table = renderConfigTable([
    leaf({ key: 'x.secret', default: 'hunter2-default', sensitive: true, env: 'X_SECRET', format: str() }),
    leaf({ key: 'x.path', doc: 'Either a|b, or <dir>/`<file>`.' }),
  ]);
  assert.doesNotMatch(table, /hunter2/);
  assert.match(table, /^\| `x\.secret` \| `X_SECRET` \| — \| a string \| A doc\. \|$/m);
  assert.match(
    table,
    /^\| `x\.path` \| {2}\| `4` \| an integer from 1 to 16 \| Either a\\\|b, or \\<dir>\/`<file>`\. \|$/m,
  );
});

test('formats are described in the words of their own errors', () => {
  assert.equal(describeFormat(int(0)), 'an integer >= 0');
  assert.equal(describeFormat(str()), 'a string');
  assert.equal(describeFormat(str(/^\d+$/, 'a string of digits')), 'a string of digits');
});

test('splicing keeps the prose around the markers and refuses a page without them', () => {
  const doc = `# Title\n\nBefore.\n\n${TABLE_START}\nstale\n${TABLE_END}\n\nAfter.\n`;
  const out = spliceConfigTable(doc, [leaf({})]);
  assert.match(out, /^# Title\n\nBefore\.\n\n/);
  assert.match(out, /\n\nAfter\.\n$/);
  assert.doesNotMatch(out, /stale/);
  assert.equal(spliceConfigTable(out, [leaf({})]), out);
  assert.throws(() => spliceConfigTable('# No markers\n', [leaf({})]), /lacks the markers/);
});
