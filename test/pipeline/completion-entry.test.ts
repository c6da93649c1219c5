import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCompletion } from '../../src/pipeline/completion-entry.js';

test('a completion entry gives its type, job and outcome, whatever the order of its fields', () => {
  assert.deepEqual(parseCompletion(['t', 'ChatAppStatus', 'j', 'job-1', 'o', 'completed']), {
    type: 'ChatAppStatus',
    jobId: 'job-1',
    outcome: 'completed',
  });
  assert.deepEqual(parseCompletion(['o', 'dead_lettered', 'j', 'job-2', 't', 'ChatAppInbound']), {
    type: 'ChatAppInbound',
    jobId: 'job-2',
    outcome: 'dead_lettered',
  });
});

test('an entry without a type or job, or with another outcome, settles nothing', () => {
  assert.equal(parseCompletion(['j', 'job-1', 'o', 'completed']), undefined);
  assert.equal(parseCompletion(['t', 'ChatAppStatus', 'o', 'completed']), undefined);
  assert.equal(parseCompletion(['t', 'ChatAppStatus', 'j', 'job-1', 'o', 'failed']), undefined);
  assert.equal(parseCompletion(['t', 'ChatAppStatus', 'j']), undefined);
});
