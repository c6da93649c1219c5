import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { recordingHandler } from '../pipeline/harness.js';
import { startRig } from './harness.js';

test('shutdown runs every step even when one fails: the handlers are still closed', async () => {
  let closed = 0;
  const handler = { ...recordingHandler('h'), close: () => void (closed += 1) };
  const rig = await startRig([handler]);
  const pipeline = (rig.daemon as unknown as { pipeline: Pipeline }).pipeline;
  const close = pipeline.close.bind(pipeline);
  pipeline.close = () => Promise.reject(new Error('the pipeline failed to close'));
  try {
    await rig.daemon.stop();
    assert.equal(closed, 1, "the handlers' close ran after the failed pipeline step");
    assert.deepEqual(
      rig.daemon.consumerHealth().consumers.map(c => c.running),
      [false, false, false],
    );
  } finally {
    await close();
    await rig.close();
  }
});
