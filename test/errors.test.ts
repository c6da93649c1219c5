import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as errors from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('every error code is documented in the README, and every documented code exists', () => {
  const documented = new Set([...readme.matchAll(/`(CAMS_ERR_[A-Z_]+)`/g)].map(m => m[1]));
  assert.deepEqual([...documented].sort(), [...errors.ERROR_CODES].sort());
});

test('error classes carry their code and name', () => {
  const err = new errors.ConfigError('unknown key', 'config/queues/a.json', 'foo');
  assert.equal(err.code, 'CAMS_ERR_CONFIG');
  assert.equal(err.name, 'ConfigError');
  assert.match(err.message, /config\/queues\/a\.json: foo: unknown key/);
  const smq = new errors.SmqError('throttled', 'throttled', 'TooManyRequests');
  assert.equal(smq.errorClass, 'throttled');
  assert.ok(new errors.PermanentError('x') instanceof errors.CamsError);
});
