// SHA-1 → name of every Lua script the daemon and BullMQ load, to name EVALSHA calls in SLOWLOG.
import { createHash } from 'node:crypto';
import * as bullmqScripts from 'bullmq/dist/esm/scripts/index.js';
import * as recordScripts from '../../src/pipeline/record-scripts.js';
import { JOB_STATES } from '../../src/pipeline/job-states.js';

const sha1 = (lua: string): string => createHash('sha1').update(lua).digest('hex');

export function scriptNames(): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of Object.values(bullmqScripts) as { name?: string; content?: string }[]) {
    if (s.name && s.content) out.set(sha1(s.content), `bullmq ${s.name}`);
  }
  for (const [name, lua] of Object.entries(recordScripts)) {
    if (typeof lua === 'string') out.set(sha1(lua), `cams ${name}`);
  }
  out.set(sha1(JOB_STATES), 'cams JOB_STATES');
  return out;
}
