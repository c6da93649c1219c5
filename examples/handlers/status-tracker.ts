/**
 * Example handler (TypeScript): keeps the delivery state of each message we sent, using the daemon's status
 * state machine (`ctx.status`).
 *
 * CAMS does not promise order: a Delivered can arrive after its Read, a Read with no Delivered at all, and two
 * statuses of one message could run at once. `serializeBy` runs one status of a message at a time, and
 * `trackStatus` gives each one `ctx.status`: the previous state, whether this status advances it (forward-only
 * by rank Sent < Delivered < Read; Failed terminal), whether it conflicts (Failed after Delivered), and the
 * history. Stale updates are skipped with one `if`. The state lives in memory to keep the example
 * self-contained; a real handler writes `UPDATE messages SET status = $2 WHERE id = $1` where it writes below.
 *
 * Configure it with:  "handlers": ["log", { "module": "../examples/handlers/status-tracker.ts" }]
 *
 * It imports the package's types only, so it runs as it is wherever the daemon loads TypeScript (see
 * "Deploying handlers" in the README); `import { defineHandler } from 'cams-receipts'` works as well.
 */
import type { ChatAppStatusReceipt, Handler, HandlerContext } from 'cams-receipts';

interface Tracked {
  status: string;
  /** The statuses seen for the message, in arrival order, as of the last one that advanced it. */
  history: string[];
}

const messages = new Map<string, Tracked>();
let maxTracked = 100_000;

const statusTracker: Handler<'ChatAppStatus'> = {
  name: 'status-tracker',
  messageTypes: ['ChatAppStatus'],
  trackStatus: true,
  serializeBy: receipt => receipt.MessageId,

  init(options) {
    if (options['maxTracked'] !== undefined) maxTracked = Number(options['maxTracked']);
  },

  handle(receipt: ChatAppStatusReceipt, ctx: HandlerContext<'ChatAppStatus'>) {
    const status = ctx.status;
    if (status?.anomaly) {
      ctx.logger.warn('conflicting status', {
        event: 'status_anomaly',
        messageId: receipt.MessageId,
        received: receipt.Status,
        state: status.state,
      });
    }
    // Stale, repeated, conflicting, or an event (Deleted, Viber subscribe/unsubscribe): nothing to write.
    if (!status?.advances) return;
    messages.delete(receipt.MessageId);
    messages.set(receipt.MessageId, { status: receipt.Status, history: status.history.map(h => h.status) });
    if (messages.size > maxTracked) {
      const oldest = messages.keys().next().value;
      if (oldest !== undefined) messages.delete(oldest);
    }
    ctx.logger.info('status tracked', {
      event: 'status_tracked',
      messageId: receipt.MessageId,
      previous: status.previous,
      status: receipt.Status,
      errorCode: receipt.ErrorCode,
    });
  },

  close() {
    messages.clear();
  },
};

/** The current state of a message, for tests and for whatever reads it. */
export function trackedStatus(messageId: string): Readonly<Tracked> | undefined {
  return messages.get(messageId);
}

export default statusTracker;
