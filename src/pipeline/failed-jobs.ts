import type { RedisClient } from '../redis/connection.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { Logger } from '../observability/logger.js';
import type { MessageType } from '../receipts/types.js';
import type { ReceiptJobData } from './job.js';
import type { KeySpace, PartitionKeys } from './keys.js';
import type { DeadLetterSink } from '../contracts/pipeline.js';

export const PARKED_PREFIX = 'dead-lettered as ';
const BULLMQ_STALLED = /stalled more than allowable limit/;

/**
 * The failedReason of a job whose receipt is in the dead-letter store. A failed job without it ended
 * outside the processor (BullMQ failed it on its own), and its receipt has not been parked yet.
 */
export function parkedReason(entryId: string, error: string): string {
  return `${PARKED_PREFIX}${entryId}: ${error}`;
}

// Marks a failed job as parked (only while it is still in the failed set, so no stray hash is created) and
// tells pollers it finished. KEYS = failed set, job hash, completion stream; ARGV = jobId, failedReason,
// stream maxLen, type.
const MARK_PARKED = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[2], 'failedReason', ARGV[2]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[4], 'j', ARGV[1], 'o', 'dead_lettered')
return 1`;

interface MarkCommand {
  camsMarkParked(...keysThenArgs: (string | number)[]): Promise<number>;
}

/** Takes a job that failed outside the processor, and makes sure its receipt ends parked. */
export interface FailedJobWatch {
  /** `part`: the partition whose queue the job failed in (the job's own, unless partitions are changing). */
  watch(type: MessageType, jobId: string, part?: PartitionKeys): void;
}

export interface FailedJobsOptions {
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly errors: ErrorReporter;
  readonly streamMaxLen: number;
  /** How long `watch` waits before trying again when Redis failed. */
  readonly retryMs?: number;
}

/**
 * Makes sure a job in BullMQ's failed set means a parked receipt. A job can fail without its handlers
 * completing and without the processor parking it (a deferred stall failure, a failure while Redis was
 * flaky on the last attempt): its receipt is parked here, under an id derived from the job so that every
 * process that finds it parks it once, before any poller may delete its SMQ message.
 */
export class FailedJobs implements FailedJobWatch {
  readonly #scripts: MarkCommand;
  /** Jobs `watch` could not settle yet (Redis away), tried again every `retryMs`. */
  readonly #retries = new Map<string, { type: MessageType; jobId: string; part?: PartitionKeys }>();
  #retryTimer?: NodeJS.Timeout;

  constructor(private readonly opts: FailedJobsOptions) {
    opts.redis.defineCommand('camsMarkParked', { numberOfKeys: 3, lua: MARK_PARKED });
    this.#scripts = opts.redis as unknown as MarkCommand;
  }

  /** 'dead_lettered' when the job is in the failed set (its receipt parked, now if not before); else undefined. */
  async settle(
    type: MessageType,
    jobId: string,
    part = this.opts.keys.ofJob(jobId),
  ): Promise<'dead_lettered' | undefined> {
    const replies = await this.opts.redis
      .pipeline()
      .zscore(part.bull(type, 'failed'), jobId)
      .hmget(part.bull(type, jobId), 'failedReason', 'data')
      .exec();
    const error = replies?.find(([err]) => err)?.[0];
    if (!replies || error) throw error ?? new Error('no reply from Redis');
    const score = replies[0]?.[1] as string | null;
    if (score === null) return undefined;
    const [failedReason, data] = (replies[1]?.[1] as (string | null)[] | null) ?? [];
    if (failedReason?.startsWith(PARKED_PREFIX)) return 'dead_lettered';
    await this.park(part, type, jobId, failedReason ?? 'unknown', data ?? undefined);
    return 'dead_lettered';
  }

  /** Settles a job a worker saw fail outside the processor, retrying until Redis answers. */
  watch(type: MessageType, jobId: string, part?: PartitionKeys): void {
    this.settle(type, jobId, part).catch((err: unknown) => {
      this.opts.errors.report('failed_job_check_failed', err, { messageType: type });
      this.#retries.set(`${part?.prefix ?? ''}|${type}|${jobId}`, { type, jobId, part });
      this.#retryTimer ??= setTimeout(() => this.#retry(), this.opts.retryMs ?? 5_000);
      this.#retryTimer.unref();
    });
  }

  close(): void {
    clearTimeout(this.#retryTimer);
    this.#retries.clear();
  }

  #retry(): void {
    this.#retryTimer = undefined;
    const due = [...this.#retries.values()];
    this.#retries.clear();
    for (const { type, jobId, part } of due) this.watch(type, jobId, part);
  }

  /** In the job's queue's partition (one slot): where pollers of that layout look. */
  async #mark(part: PartitionKeys, type: MessageType, jobId: string, failedReason: string): Promise<void> {
    await this.#scripts.camsMarkParked(
      part.bull(type, 'failed'),
      part.bull(type, jobId),
      part.finishedStream,
      jobId,
      failedReason,
      this.opts.streamMaxLen,
      type,
    );
  }

  private async park(
    part: PartitionKeys,
    type: MessageType,
    jobId: string,
    failedReason: string,
    raw?: string,
  ): Promise<void> {
    const data = parseJobData(raw);
    const reason = BULLMQ_STALLED.test(failedReason) ? 'stalled' : 'failed';
    const error = `the job failed before its handlers completed: ${failedReason}`;
    const entryId = await this.opts.deadLetters.park({
      id: `job:${type}:${jobId}`,
      messageType: type,
      source: data?.source ?? 'smq',
      reason,
      error,
      ...(data ? { receipt: data.receipt } : { raw }),
      queueName: data?.queueName,
      jobId,
    });
    await this.#mark(part, type, jobId, parkedReason(entryId, failedReason));
    this.opts.logger.warn('receipt dead-lettered', {
      event: 'receipt_dead_lettered',
      messageType: type,
      dedupeKey: data?.dedupeKey,
      reason,
      error,
      deadLetterId: entryId,
    });
  }
}

function parseJobData(raw: string | undefined): ReceiptJobData | undefined {
  if (raw === undefined) return undefined;
  try {
    const data = JSON.parse(raw) as ReceiptJobData;
    return data && typeof data === 'object' && 'receipt' in data ? data : undefined;
  } catch {
    return undefined;
  }
}
