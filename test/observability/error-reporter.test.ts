import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorReporter } from '../../src/observability/error-reporter.js';
import { captureLogger, tick } from '../handlers/helpers.js';

test('a run of the same error logs its first at once, then one summary per interval with the count', async () => {
  const { logger, lines } = captureLogger();
  const errors = new ErrorReporter({ logger, intervalMs: 100 });
  try {
    for (let i = 0; i < 5000; i += 1) {
      errors.report('worker_error', new Error(`MOVED ${i} 127.0.0.1:${7000 + (i % 3)}`), {
        messageType: 'A',
      });
    }
    await tick();
    assert.equal(lines.length, 1, 'one line for 5,000 errors that differ only in numbers');
    assert.equal(lines[0]?.['event'], 'worker_error');
    assert.equal(lines[0]?.['messageType'], 'A');
    await new Promise(r => setTimeout(r, 150));
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.['repeats'], 4999);
    assert.match(String(lines[1]?.['message']), /repeated/);
  } finally {
    errors.close();
  }
});

test('different errors, or the same error from another source, are each logged once', async () => {
  const { logger, lines } = captureLogger();
  const errors = new ErrorReporter({ logger, intervalMs: 60_000 });
  errors.report('worker_error', new Error('connect ECONNREFUSED'), { messageType: 'A' });
  errors.report('worker_error', new Error('connect ECONNREFUSED'), { messageType: 'B' });
  errors.report('worker_error', new Error('NOAUTH'), { messageType: 'A' });
  errors.report('completion_reader_error', new Error('connect ECONNREFUSED'));
  errors.report('worker_error', new Error('connect ECONNREFUSED'), { messageType: 'A' });
  await tick();
  assert.equal(lines.length, 4);
  errors.close();
  await tick();
  assert.equal(lines.length, 5, 'close reports the repeats not yet summarised');
  assert.equal(lines[4]?.['repeats'], 1);
});

test('after a quiet interval the next occurrence is logged at once again', async () => {
  const { logger, lines } = captureLogger();
  const errors = new ErrorReporter({ logger, intervalMs: 50 });
  try {
    errors.report('e', new Error('x'));
    await new Promise(r => setTimeout(r, 130));
    errors.report('e', new Error('x'));
    await tick();
    assert.equal(lines.length, 2, 'no summary for a quiet interval, and the new run starts with a line');
    assert.equal(lines[1]?.['repeats'], undefined);
  } finally {
    errors.close();
  }
});

test('the number of tracked kinds is bounded', async () => {
  const { logger, lines } = captureLogger();
  const errors = new ErrorReporter({ logger, intervalMs: 60_000, maxKeys: 3 });
  for (let i = 0; i < 100; i += 1)
    errors.report('e', new Error(`kind ${String.fromCharCode(65 + (i % 26))}`));
  await tick();
  assert.equal(lines.length, 4, 'three kinds, then one shared entry for the rest');
  errors.close();
});
