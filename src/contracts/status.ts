/** One status as it arrived for a message. */
export interface StatusEvent {
  readonly status: string;
  /** The receipt's `Timestamp` (epoch ms), or when it was applied when the receipt had none. */
  readonly atMs: number;
}

/** What a ChatAppStatus receipt does to its message's delivery state: `ctx.status`. */
export interface StatusTransition {
  /** This receipt's `Status`. */
  readonly status: string;
  /** The message's state before this receipt (`Sent`, `Delivered`, `Read`, `Failed`), if any. */
  readonly previous: string | undefined;
  /** The state after it: `status` when it advances, `previous` otherwise. */
  readonly state: string | undefined;
  /** Moves the state forward: act on it. False for stale, repeated, conflicting and event statuses. */
  readonly advances: boolean;
  /** A conflicting report: Failed after Delivered or Read, or Delivered or Read after Failed. */
  readonly anomaly: boolean;
  /** Not a delivery state (Deleted, Viber subscribe/unsubscribe, values added later): an event. */
  readonly event: boolean;
  /** Every status seen for the message, in arrival order (bounded), this one included. */
  readonly history: readonly StatusEvent[];
}
