import type { JobOutcome } from '../contracts/pipeline.js';
import type { MessageType } from '../receipts/types.js';

/** The key of a job among waiters and recent outcomes. */
export function jobKey(type: MessageType, jobId: string): string {
  return `${type}|${jobId}`;
}

/**
 * The outcomes the completion reader read lately, for a waiter that registers just after its job's entry
 * went by (the job finished between the sink's state check and the wait). Two generations, each at most
 * `maxEntries` and `generationMs` old, so memory stays bounded at any rate.
 */
export class RecentOutcomes {
  #current = new Map<string, JobOutcome>();
  #previous = new Map<string, JobOutcome>();
  #since: number;

  constructor(
    private readonly generationMs = 10_000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {
    this.#since = now();
  }

  remember(key: string, outcome: JobOutcome): void {
    if (this.#current.size >= this.maxEntries || this.now() - this.#since >= this.generationMs) {
      this.#previous = this.#current;
      this.#current = new Map();
      this.#since = this.now();
    }
    this.#current.set(key, outcome);
  }

  get(key: string): JobOutcome | undefined {
    return this.#current.get(key) ?? this.#previous.get(key);
  }
}
