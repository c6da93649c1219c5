import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompletionSource, ReceiptSink } from '../../src/contracts/pipeline.js';
import { FakePipeline } from '../smq/fake-pipeline.js';
import { createPipeline, recordingHandler, statusEnvelope } from './harness.js';

/** What the consumer relies on, whichever sink it is given. */
interface Subject {
  readonly sink: ReceiptSink;
  readonly completions: CompletionSource;
  /** Lets the job finish (the real pipeline's workers do that by themselves). */
  finish(jobId: string, outcome: 'completed' | 'dead_lettered'): void;
  close(): Promise<void>;
}

function fake(): Subject {
  const pipeline = new FakePipeline();
  return {
    sink: pipeline,
    completions: pipeline,
    finish: (jobId, outcome) => pipeline.complete(jobId, outcome),
    close: async () => undefined,
  };
}

function real(): Subject {
  const handler = recordingHandler('h', { failures: 0 });
  const { pipeline } = createPipeline([handler, recordingHandler('perm', { failures: 1, permanent: true })]);
  return {
    sink: pipeline.sink,
    completions: pipeline.completions!,
    finish: () => undefined,
    close: () => pipeline.close(),
  };
}

for (const [name, make] of [
  ['FakePipeline', fake],
  ['the BullMQ pipeline', real],
] as const) {
  describe(`sink contract: ${name}`, () => {
    test('a new receipt is not finished; the same receipt again after its job finished is', async () => {
      const s = make();
      try {
        const first = statusEnvelope(`c-${Math.random()}`);
        const [a] = await s.sink.submit([first]);
        assert.equal(a?.finished, false);
        s.finish(a!.jobId, 'completed');
        const outcome = await s.completions.wait('ChatAppStatus', a!.jobId);
        assert.ok(outcome === 'completed' || outcome === 'dead_lettered');
        const [again, other] = await s.sink.submit([first, statusEnvelope(`c-${Math.random()}`)]);
        assert.equal(again?.jobId, a?.jobId, 'a duplicate joins the same job id');
        assert.equal(again?.finished, true, 'a duplicate of a finished job is reported finished');
        assert.equal(other?.finished, false, 'the new receipt beside it is not');
      } finally {
        await s.close();
      }
    });
  });
}
