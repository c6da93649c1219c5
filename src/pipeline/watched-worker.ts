import { Worker, type Job, type RedisClient, type WorkerOptions } from 'bullmq';
import type { WorkerState } from '../observability/health.js';
import type { MessageType } from '../receipts/types.js';
import type { ReceiptJobData, ReceiptJobResult } from './job.js';
import { queueNameFor } from './keys.js';

type ReceiptJob = Job<ReceiptJobData, ReceiptJobResult>;

/**
 * A BullMQ worker that remembers when Redis last answered its fetch: a job handed over, or the queue found
 * empty (an idle worker asks again every few seconds). A worker whose connection died without a word
 * (BullMQ workers have been seen to stay "running" after a Sentinel outage, fetching nothing) stops
 * answering, and readiness says so.
 */
export class WatchedWorker extends Worker<ReceiptJobData, ReceiptJobResult> {
  readonly startedAtMs = Date.now();
  private lastFetchAtMs: number | undefined;
  private active = 0;

  constructor(
    readonly messageType: MessageType,
    readonly slots: number,
    processor: (job: ReceiptJob, token?: string) => Promise<ReceiptJobResult>,
    opts: Omit<WorkerOptions, 'concurrency'>,
  ) {
    super(queueNameFor(messageType), processor, { ...opts, concurrency: slots });
  }

  /** Every fetch that reaches Redis ends here, whether it returned a job or found none. */
  protected override async moveToActive(
    client: RedisClient,
    token: string,
    name?: string,
  ): Promise<ReceiptJob> {
    const job = await super.moveToActive(client, token, name);
    this.lastFetchAtMs = Date.now();
    return job;
  }

  /**
   * Runs one job, counted as a fetch: a job also arrives with the previous one's completion (BullMQ fetches
   * the next in the same call), which moveToActive does not see.
   */
  async track(run: () => Promise<ReceiptJobResult>): Promise<ReceiptJobResult> {
    this.lastFetchAtMs = Date.now();
    this.active += 1;
    try {
      return await run();
    } finally {
      this.active -= 1;
    }
  }

  state(): WorkerState {
    return {
      messageType: this.messageType,
      slots: this.slots,
      active: this.active,
      running: this.isRunning(),
      startedAtMs: this.startedAtMs,
      ...(this.lastFetchAtMs !== undefined ? { lastFetchAtMs: this.lastFetchAtMs } : {}),
    };
  }
}
