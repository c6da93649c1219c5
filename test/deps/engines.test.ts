// `npm ci` warns EBADENGINE when a runtime dependency does not support the running Node.js: every package
// the package ships with must accept the oldest release of each line we support.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { dev?: boolean; version?: string; engines?: Record<string, string> | string[] }>;
};

/** The oldest release of each supported line, from our own `engines` (`^20.19.0 || >=22.12.0`). */
const OLDEST = [...pkg.engines.node.matchAll(/(\d+\.\d+\.\d+)/g)].map(m => m[1] as string);

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^v/, '')
    .split('.')
    .map(n => Number.parseInt(n, 10) || 0);
  return [a, b, c];
};
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The range forms npm packages use here: `*`, `>=x`, `^x`, `x` (a major), `a || b`, `>=a <b` (and). */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some(alternative =>
    alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .every(part => {
        const m = /^(>=|<=|>|<|\^|~|=)?v?(\d+(?:\.(?:\d+|x))?(?:\.(?:\d+|x))?)$/.exec(part);
        if (part === '*' || part === '' || part === 'x') return true;
        assert.ok(m, `unknown engines range ${JSON.stringify(range)}`);
        const [op = '', bound = ''] = [m[1], m[2]];
        const b = parse(bound.replace(/x/g, '0'));
        const c = compare(v, b);
        if (op === '>=') return c >= 0;
        if (op === '>') return c > 0;
        if (op === '<') return c < 0;
        if (op === '<=') return c <= 0;
        if (op === '^' || op === '' || op === '=') return v[0] === b[0] && c >= 0;
        return v[0] === b[0] && v[1] === b[1] && c >= 0; // ~
      }),
  );
}

test('the range reader reads the forms it meets', () => {
  assert.ok(satisfies('20.19.0', '>=18') && !satisfies('20.19.0', '>=22'));
  assert.ok(satisfies('22.12.0', '20 || >=22') && !satisfies('21.0.0', '20 || >=22'));
  assert.ok(satisfies('20.19.0', '>=16 || 14 >=14.17') && satisfies('20.19.0', '^16 || ^18 || >=20'));
  assert.ok(!satisfies('20.19.0', '^22.0.0') && satisfies('20.19.0', '>= 0.8'));
});

test(`every runtime dependency accepts Node.js ${OLDEST.join(' and ')}`, () => {
  assert.deepEqual(OLDEST, ['20.19.0', '22.12.0']);
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = !Array.isArray(entry.engines) ? entry.engines?.['node'] : undefined;
    if (!path || entry.dev || !range) continue;
    for (const v of OLDEST)
      if (!satisfies(v, range)) refused.push(`${path}@${entry.version}: ${range} refuses ${v}`);
  }
  assert.deepEqual(refused, []);
});
