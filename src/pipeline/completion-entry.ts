import type { MessageType } from '../receipts/types.js';
import type { JobOutcome } from '../contracts/pipeline.js';

export interface Completion {
  readonly type: MessageType;
  readonly jobId: string;
  readonly outcome: JobOutcome;
}

/** A completion stream entry, fields as the workers write them: t <type> j <jobId> o <outcome>. */
export function parseCompletion(fields: readonly string[]): Completion | undefined {
  let type: string | undefined;
  let jobId: string | undefined;
  let outcome: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    if (fields[i] === 't') type = value;
    else if (fields[i] === 'j') jobId = value;
    else if (fields[i] === 'o') outcome = value;
  }
  if (type === undefined || jobId === undefined) return undefined;
  if (outcome !== 'completed' && outcome !== 'dead_lettered') return undefined;
  return { type: type as MessageType, jobId, outcome };
}
