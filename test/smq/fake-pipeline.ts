import type { SmqConfig } from '../../src/config/types.js';
import { StoreError } from '../../src/errors.js';
import type {
  CompletionSource,
  DeadLetterSink,
  JobOutcome,
  ReceiptSink,
  StoreProbe,
  SubmitResult,
} from '../../src/contracts/pipeline.js';
import type { DeadLetterInput, ReceiptEnvelope } from '../../src/receipts/envelope.js';
import type { MessageType } from '../../src/receipts/types.js';

/**
 * In-memory stand-ins for the BullMQ side (covered by the pipeline's own tests against Redis):
 * jobs keyed by receipt, completion on demand or automatically, and a dead-letter list.
 */
export class FakePipeline implements ReceiptSink, StoreProbe, CompletionSource, DeadLetterSink {
  readonly submitted: ReceiptEnvelope[] = [];
  readonly parked: DeadLetterInput[] = [];
  readonly finished = new Set<string>();
  /** When set, every job finishes this many ms after it is submitted. */
  autoCompleteMs?: number;
  /** While true, submit and park reject as Redis would when it is down. */
  storeDown = false;
  submitCalls = 0;
  probeCalls = 0;
  readonly #waiting = new Map<string, ((o: JobOutcome) => void)[]>();

  static jobId(e: ReceiptEnvelope): string {
    const r = e.receipt as Record<string, unknown>;
    return `${e.messageType}-${String(r['MessageId'] ?? r['WabaId'])}-${String(r['Status'] ?? '')}`;
  }

  async submit(envelopes: readonly ReceiptEnvelope[]): Promise<SubmitResult[]> {
    this.submitCalls += 1;
    await Promise.resolve();
    if (this.storeDown) throw new StoreError('redis is down');
    this.submitted.push(...envelopes);
    return envelopes.map(e => {
      const jobId = FakePipeline.jobId(e);
      if (this.autoCompleteMs !== undefined) setTimeout(() => this.complete(jobId), this.autoCompleteMs);
      return { jobId, finished: this.finished.has(jobId) };
    });
  }

  async probe(): Promise<boolean> {
    this.probeCalls += 1;
    await Promise.resolve();
    return !this.storeDown;
  }

  wait(_type: MessageType, jobId: string, signal?: AbortSignal): Promise<JobOutcome> {
    if (this.finished.has(jobId)) return Promise.resolve('completed');
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const list = this.#waiting.get(jobId) ?? [];
      list.push(resolve);
      this.#waiting.set(jobId, list);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  /** Finishes a job and wakes whoever waits on it. */
  complete(jobId: string, outcome: JobOutcome = 'completed'): void {
    this.finished.add(jobId);
    for (const resolve of this.#waiting.get(jobId) ?? []) resolve(outcome);
    this.#waiting.delete(jobId);
  }

  completeAll(): void {
    for (const e of this.submitted) this.complete(FakePipeline.jobId(e));
  }

  async park(entry: DeadLetterInput): Promise<string> {
    await Promise.resolve();
    if (this.storeDown) throw new StoreError('redis is down');
    this.parked.push(entry);
    return `dl-${this.parked.length}`;
  }
}

/** Base64 of one JSON receipt, as CAMS writes it. */
export function statusBody(messageId: string, status = 'Delivered'): string {
  return Buffer.from(JSON.stringify({ MessageId: messageId, Status: status, To: '8613800000000' })).toString(
    'base64',
  );
}

/** Polls `predicate` until it holds, failing after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 10));
  }
}

/** Fast-paced SMQ settings for consumer tests (endpoints are placeholders unless a test sets them). */
export const SMQ: SmqConfig = {
  endpoint: 'http://127.0.0.1:1',
  accountId: '1',
  tokenEndpoint: 'http://127.0.0.1:1',
  maxInFlight: 100,
  waitSeconds: 1,
  batchSize: 16,
  visibilityTimeoutSeconds: 30,
  leaseLeadMs: 5_000,
  maxLeaseMs: 600_000,
  receiveLingerMs: 0,
  deleteFlushMs: 20,
  tokenRefreshMarginMs: 120_000,
  backoffBaseMs: 20,
  backoffMaxMs: 100,
  queueMissingBackoffMs: 300,
};
