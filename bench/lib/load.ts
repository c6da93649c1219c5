// Receipt bodies for the benchmark: realistic CAMS receipts (the emulator's factory), each with a
// dedupe key of its own, plus an exact share of duplicate SMQ messages spread through the queues.
import { ReceiptFactory, encodeReceipt, type Receipt } from '../../src/emulator/index.js';
import { defaultDedupeKey } from '../../src/receipts/dedupe.js';
import type { MessageType } from '../../src/receipts/types.js';
import { validateReceipt } from '../../src/receipts/validate.js';
import type { EmulatorProcess, QueueSpec } from './emulator-process.js';

/**
 * The benchmark handler's name (count-handler.mjs, and what the BullMQ ceiling claims as): its idempotency
 * records are kept under it.
 */
export const BENCH_HANDLER = 'bench';

/** A WhatsApp sender's traffic is mostly status receipts (three or more per message sent). */
export const TYPE_MIX: Readonly<Record<MessageType, number>> = {
  ChatAppStatus: 0.7,
  ChatAppInbound: 0.25,
  ChatAppAudit: 0.05,
  SmsReport: 0,
  SmsUp: 0,
};

export const BENCH_QUEUES: readonly QueueSpec[] = [
  { messageType: 'ChatAppStatus', queueName: 'Alicom-Queue-1234567890123456-ChatAppStatus' },
  { messageType: 'ChatAppInbound', queueName: 'Alicom-Queue-1234567890123456-ChatAppInbound' },
  { messageType: 'ChatAppAudit', queueName: 'Alicom-Queue-1234567890123456-ChatAppAudit' },
];

export interface Load {
  /** Bodies per queue name, in enqueue order. */
  readonly bodies: Map<string, string[]>;
  readonly messages: number;
  readonly distinct: number;
  readonly duplicates: number;
}

let auditSeq = 0;

/** One receipt whose dedupe key no other receipt of the run shares. */
export function uniqueReceipt(factory: ReceiptFactory, type: MessageType, extra?: Receipt): Receipt {
  const receipt = { ...factory.next(type), ...extra };
  // Audit events have no id: their key is the event state, so give each its own template code.
  if (type === 'ChatAppAudit')
    receipt['TemplateCode'] = `bench${(auditSeq += 1).toString(36).padStart(8, '0')}`;
  return receipt;
}

export function dedupeKeyOf(type: MessageType, receipt: Receipt): string {
  const result = validateReceipt(type, receipt);
  if (!result.ok) throw new Error(`generated an invalid ${type} receipt: ${result.reason}`);
  return defaultDedupeKey(type, result.receipt);
}

/**
 * `messages` SMQ messages over the queues by TYPE_MIX, of which `duplicateRatio` repeat an earlier body of
 * the same queue (as SMQ redelivers or CAMS double-sends), placed at random later positions.
 */
export function buildLoad(
  messages: number,
  duplicateRatio: number,
  queues: readonly QueueSpec[] = BENCH_QUEUES,
  random: () => number = Math.random,
): Load {
  const factory = new ReceiptFactory(random);
  const bodies = new Map<string, string[]>();
  let assigned = 0;
  let distinct = 0;
  let duplicates = 0;
  queues.forEach((queue, i) => {
    const type = queue.messageType as MessageType;
    const share = TYPE_MIX[type] / queues.reduce((s, q) => s + TYPE_MIX[q.messageType as MessageType], 0);
    const count = i === queues.length - 1 ? messages - assigned : Math.round(messages * share);
    assigned += count;
    const dupes = Math.round(count * duplicateRatio);
    const placed: { at: number; body: string }[] = [];
    const keys = new Set<string>();
    for (let n = 0; n < count - dupes; n += 1) {
      const receipt = uniqueReceipt(factory, type);
      keys.add(dedupeKeyOf(type, receipt));
      placed.push({ at: n, body: encodeReceipt(receipt) });
    }
    if (keys.size !== placed.length) throw new Error(`${type}: generated receipts share dedupe keys`);
    const originals = placed.length;
    for (let n = 0; n < dupes; n += 1) {
      // A copy of an earlier body, somewhere after the original.
      const original = Math.floor(random() * originals);
      const at = original + 0.5 + random() * (originals - original);
      placed.push({ at, body: (placed[original] as { body: string }).body });
    }
    placed.sort((a, b) => a.at - b.at);
    distinct += count - dupes;
    duplicates += dupes;
    bodies.set(
      queue.queueName,
      placed.map(p => p.body),
    );
  });
  return { bodies, messages, distinct, duplicates };
}

/** The emulator's control API takes bodies up to 256 KB: stay well under it. */
const MAX_INJECT_BYTES = 200 * 1024;

/** Puts bodies into one emulator queue, in requests the control API takes; checks every one was stored. */
export async function inject(
  emulator: EmulatorProcess,
  queueName: string,
  bodies: readonly string[],
): Promise<void> {
  let start = 0;
  while (start < bodies.length) {
    let end = start;
    let bytes = 0;
    while (
      end < bodies.length &&
      (end === start || bytes + (bodies[end] as string).length + 4 < MAX_INJECT_BYTES)
    ) {
      bytes += (bodies[end] as string).length + 4;
      end += 1;
    }
    const result = await emulator.inject(queueName, bodies.slice(start, end));
    if (result.enqueued !== end - start) {
      throw new Error(`the emulator stored ${result.enqueued} of ${end - start} messages for ${queueName}`);
    }
    start = end;
  }
}

/** Puts a load into the emulator. */
export async function preload(emulator: EmulatorProcess, load: Load): Promise<void> {
  await Promise.all([...load.bodies].map(([queueName, list]) => inject(emulator, queueName, list)));
}
