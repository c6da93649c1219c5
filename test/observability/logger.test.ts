import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { wantsColor } from '../../src/cli/io.js';
import { createLogger } from '../../src/observability/logger.js';

async function prettyLine(color: boolean | undefined): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  createLogger({ level: 'info', format: 'pretty', ...(color === undefined ? {} : { color }) }, out).info(
    'hello',
  );
  await new Promise(resolve => setImmediate(resolve));
  return Buffer.concat(chunks).toString();
}

test('pretty lines carry ANSI colour unless told not to', async () => {
  const coloured = await prettyLine(undefined);
  assert.ok(coloured.includes('\u001b[32minfo\u001b[39m hello'), JSON.stringify(coloured));
  const plain = await prettyLine(false);
  assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} info hello\n$/);
});

test('colour only on a terminal, and never with NO_COLOR', () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  const pipe = new PassThrough();
  assert.equal(wantsColor({ env: {} }, tty), true);
  assert.equal(wantsColor({ env: {} }, pipe), false);
  assert.equal(wantsColor({ env: { NO_COLOR: '1' } }, tty), false);
  assert.equal(wantsColor({ env: { NO_COLOR: '' } }, tty), true, 'an empty NO_COLOR does not count');
});
