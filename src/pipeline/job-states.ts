import type { RedisClient } from '../redis/connection.js';
import type { JobRef, KeySpace } from './keys.js';
import { PARKED_PREFIX } from './failed-jobs.js';

/**
 * Where BullMQ holds a job: completed; failed with its receipt parked (dead-lettered); failed and not
 * parked yet (BullMQ failed it on its own: see FailedJobs); still in the queue (waiting, active, delayed);
 * or missing (removed by retention, or never there).
 */
export type JobState = 'completed' | 'dead_lettered' | 'failed' | 'queued' | 'missing';

const STATE_OF: Record<string, JobState> = {
  c: 'completed',
  d: 'dead_lettered',
  f: 'failed',
  q: 'queued',
  m: 'missing',
};

// One call per partition, however many jobs. KEYS per job: completed set, failed set, job hash;
// ARGV = parked prefix, then the job ids.
export const JOB_STATES = `
local out, n = {}, #ARGV - 1
for i = 1, n do
  local id, k = ARGV[i + 1], 3 * (i - 1)
  if redis.call('ZSCORE', KEYS[k + 1], id) then
    out[i] = 'c'
  elseif redis.call('ZSCORE', KEYS[k + 2], id) then
    local reason = redis.call('HGET', KEYS[k + 3], 'failedReason')
    out[i] = (reason and string.sub(reason, 1, #ARGV[1]) == ARGV[1]) and 'd' or 'f'
  elseif redis.call('EXISTS', KEYS[k + 3]) == 1 then
    out[i] = 'q'
  else
    out[i] = 'm'
  end
end
return out`;

interface StatesCommand {
  camsJobStates(numberOfKeys: number, ...keysThenArgs: string[]): Promise<string[]>;
}

/**
 * Reads BullMQ's own state of jobs, so that a job that finished long ago needs no marker of ours: the
 * sink asks it for duplicates, the completion sweep for waits that heard nothing.
 */
export class JobStates {
  readonly #redis: StatesCommand;

  constructor(
    redis: RedisClient,
    private readonly keys: KeySpace,
  ) {
    redis.defineCommand('camsJobStates', { lua: JOB_STATES });
    this.#redis = redis as unknown as StatesCommand;
  }

  /** Each job's state, in order; one Lua call per partition (a Cluster needs one slot per call). */
  async of(jobs: readonly JobRef[]): Promise<JobState[]> {
    const states = new Array<JobState>(jobs.length).fill('missing');
    const indexes = new Map<JobRef, number>(jobs.map((j, i) => [j, i]));
    await Promise.all(
      [...this.keys.groupByJob(jobs)].map(async ([part, list]) => {
        const keys = list.flatMap(({ type, jobId }) => [
          part.bull(type, 'completed'),
          part.bull(type, 'failed'),
          part.bull(type, jobId),
        ]);
        const found = await this.#redis.camsJobStates(
          keys.length,
          ...keys,
          PARKED_PREFIX,
          ...list.map(j => j.jobId),
        );
        list.forEach((job, k) => (states[indexes.get(job) ?? 0] = STATE_OF[found[k] ?? 'm'] ?? 'missing'));
      }),
    );
    return states;
  }
}
