import type { Ran } from './idempotency.js';

/** A handler's run that ended well, still holding its lease. */
export interface LeasedRun extends Ran {
  /** Until when the record may still be written without another worker having claimed the receipt. */
  readonly leaseEndsAtMs: number;
}

/** How one handler fared in an attempt. */
export type Outcome =
  | { readonly handler: string; readonly state: 'skipped' }
  | { readonly handler: string; readonly state: 'ran'; readonly ran: LeasedRun }
  | { readonly handler: string; readonly state: 'busy'; readonly retryInMs: number }
  | {
      readonly handler: string;
      readonly state: 'failed';
      readonly error: unknown;
      readonly key: string;
      readonly token: string;
    };

export type Failed = Extract<Outcome, { state: 'failed' }>;
export type Busy = Extract<Outcome, { state: 'busy' }>;

export interface SortedOutcomes {
  readonly ran: readonly LeasedRun[];
  readonly skipped: string[];
  readonly busy: readonly Busy[];
  readonly failed: readonly Failed[];
}

/** The handlers' outcomes by kind, each in handler order. */
export function sortOutcomes(outcomes: readonly Outcome[]): SortedOutcomes {
  return {
    ran: outcomes.flatMap(o => (o.state === 'ran' ? [o.ran] : [])),
    skipped: outcomes.filter(o => o.state === 'skipped').map(o => o.handler),
    busy: outcomes.filter((o): o is Busy => o.state === 'busy'),
    failed: outcomes.filter((o): o is Failed => o.state === 'failed'),
  };
}
