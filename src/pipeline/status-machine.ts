import { STATUS_RANK } from '../receipts/types/ChatAppStatus.js';
import type { StatusTransition } from '../contracts/status.js';

const FAILED = 'Failed';

/** The delivery rank of a status (Sent 1 < Delivered 2 < Read 3), undefined for Failed and events. */
function deliveryRank(status: string | undefined): number | undefined {
  return status === undefined || status === FAILED ? undefined : STATUS_RANK[status];
}

/**
 * The pure rule. Forward-only by rank, skips allowed (Read with no Delivered before it). Failed is terminal:
 * nothing moves a failed message, and a Delivered or Read after it is an anomaly. Failed after Delivered or Read
 * is an anomaly too, not a regression. Other statuses are events and never move the state.
 */
export function transition(previous: string | undefined, status: string): Omit<StatusTransition, 'history'> {
  const stays = { status, previous, state: previous, advances: false };
  if (status !== FAILED && deliveryRank(status) === undefined)
    return { ...stays, anomaly: false, event: true };
  if (previous === FAILED) return { ...stays, anomaly: status !== FAILED && status !== 'Sent', event: false };
  if (status === FAILED) {
    const delivered = (deliveryRank(previous) ?? 0) >= 2;
    return delivered
      ? { ...stays, anomaly: true, event: false }
      : { ...stays, state: FAILED, advances: true, anomaly: false, event: false };
  }
  const advances = (deliveryRank(status) ?? 0) > (deliveryRank(previous) ?? 0);
  return { ...stays, state: advances ? status : previous, advances, anomaly: false, event: false };
}
