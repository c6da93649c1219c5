// Baseline (c): receipts consumed the way Alibaba's Java puller (DefaultAlicomMessagePuller) does it,
// ported to Node with @alicloud/mns. Per queue: one pull loop calling batchReceiveMessage(16) with a
// long poll, a pool of 16 concurrent handlers fed through a 200-slot work queue, and one DeleteMessage
// per message once its handler returned. No deduplication, no lease extension, no batching of deletes;
// on an error the loop sleeps a flat 3 s, as the Java puller does.
import PQueue from 'p-queue';
import { defaultDedupeKey } from '../../src/receipts/dedupe.js';
import type { MessageType } from '../../src/receipts/types.js';
import { validateReceipt } from '../../src/receipts/validate.js';
import { childSide } from './child.js';
import { loadCountHandler, mnsClient, receive, type SmqTarget } from './mns.js';

export interface BaselineConfig extends SmqTarget {
  readonly queues: readonly { messageType: string; queueName: string }[];
  readonly handler: Record<string, unknown>;
  readonly poolSize: number;
  readonly workQueueSlots: number;
  readonly waitSeconds: number;
}

const { config, send, onStop } = childSide<BaselineConfig>();
let stopping = false;

const handler = await loadCountHandler();
handler.init(config.handler);
const client = mnsClient(config);
let handled = 0;
let failed = 0;

async function pullLoop(queueName: string, messageType: MessageType): Promise<void> {
  const pool = new PQueue({ concurrency: config.poolSize });
  while (!stopping) {
    // The Java puller's executor queue holds 200 tasks; pull only while it has room.
    await pool.onSizeLessThan(config.workQueueSlots);
    let messages: Record<string, string>[];
    try {
      messages = await receive(client, queueName, 16, config.waitSeconds);
    } catch {
      await new Promise(resolve => setTimeout(resolve, 3000));
      continue;
    }
    for (const m of messages) {
      void pool.add(async () => {
        try {
          // dealMessage: Base64 → JSON, then the business code; true → delete this one message.
          const receipt = JSON.parse(
            Buffer.from(m['MessageBody'] ?? '', 'base64').toString('utf8'),
          ) as unknown;
          const valid = validateReceipt(messageType, receipt);
          if (!valid.ok) throw new Error(valid.reason);
          await handler.handle(valid.receipt, {
            messageType,
            dedupeKey: defaultDedupeKey(messageType, valid.receipt),
          });
          await client.deleteMessage(queueName, m['ReceiptHandle'] ?? '');
          handled += 1;
        } catch {
          failed += 1; // left for redelivery after the visibility timeout
        }
      });
    }
  }
  await pool.onIdle();
}

const loops = Promise.all(config.queues.map(q => pullLoop(q.queueName, q.messageType as MessageType)));
onStop(() => {
  stopping = true;
  // Long polls in progress are not waited for: only handlers still running get a moment to finish.
  const grace = new Promise(resolve => setTimeout(resolve, 2000));
  void Promise.race([loops, grace])
    .then(() => handler.close())
    .then(() => {
      send({ type: 'done', handled, failed });
      process.exit(0);
    });
});
send({ type: 'ready' });
