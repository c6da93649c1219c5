/**
 * Example handler (TypeScript): tracks the delivery state of each message we sent.
 *
 * CAMS does not promise order: a Delivered can arrive after its Read. Statuses are therefore applied
 * forward-only by rank (Sent < Delivered < Read), and Failed is terminal. The state lives in memory to keep
 * the example self-contained; a real handler would write to its database, in one statement that both
 * checks the rank and updates (e.g. `UPDATE … SET status = $2 WHERE id = $1 AND rank < $3`).
 *
 * Configure it with:  "handlers": ["log", { "module": "../examples/handlers/status-tracker.ts" }]
 *
 * It imports the package's types only, so it runs as it is wherever the daemon loads TypeScript (see
 * "Deploying handlers" in the README); `import { defineHandler } from 'cams-receipts'` works as well.
 */
import type { ChatAppStatusReceipt, Handler, HandlerContext } from 'cams-receipts';

const RANK: Readonly<Record<string, number>> = { Sent: 1, Delivered: 2, Read: 3, Failed: 4 };

interface Tracked {
  status: string;
  /** Every status seen, in arrival order, including the ones that did not move the state. */
  history: string[];
}

const messages = new Map<string, Tracked>();
let maxTracked = 100_000;

const statusTracker: Handler<'ChatAppStatus'> = {
  name: 'status-tracker',
  messageTypes: ['ChatAppStatus'],

  init(options) {
    if (options['maxTracked'] !== undefined) maxTracked = Number(options['maxTracked']);
  },

  handle(receipt: ChatAppStatusReceipt, ctx: HandlerContext<'ChatAppStatus'>) {
    const rank = RANK[receipt.Status];
    // Viber subscribe/unsubscribe and Deleted are not delivery states.
    if (rank === undefined) {
      ctx.logger.info('status ignored', {
        event: 'status_ignored',
        messageId: receipt.MessageId,
        status: receipt.Status,
      });
      return;
    }
    const tracked = messages.get(receipt.MessageId) ?? { status: '', history: [] };
    tracked.history.push(receipt.Status);
    const current = RANK[tracked.status] ?? 0;
    const terminal = tracked.status === 'Failed';
    if (!terminal && rank > current) tracked.status = receipt.Status;
    messages.set(receipt.MessageId, tracked);
    if (messages.size > maxTracked) {
      const oldest = messages.keys().next().value;
      if (oldest !== undefined) messages.delete(oldest);
    }
    ctx.logger.info('status tracked', {
      event: 'status_tracked',
      messageId: receipt.MessageId,
      received: receipt.Status,
      status: tracked.status,
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
