// Ceiling (a): how fast the official client empties the emulator with no processing at all:
// BatchReceiveMessage(16) then BatchDeleteMessage of the same handles, `loopsPerQueue` loops per queue,
// until every queue answers empty. Starts on "go", reports {received, ms}.
import { childSide } from './child.js';
import { mnsClient, receive, type SmqTarget } from './mns.js';

export interface CeilingEmulatorConfig extends SmqTarget {
  readonly queues: readonly string[];
  readonly loopsPerQueue: number;
}

const { config, send } = childSide<CeilingEmulatorConfig>();
const client = mnsClient(config);
let received = 0;

async function loop(queue: string): Promise<void> {
  for (;;) {
    const messages = await receive(client, queue, 16, 0);
    if (messages.length === 0) return;
    received += messages.length;
    await client.batchDeleteMessage(
      queue,
      messages.map(m => m['ReceiptHandle'] ?? ''),
    );
  }
}

process.on('message', (m: { type: string }) => {
  if (m.type !== 'go') return;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  void Promise.all(
    config.queues.flatMap(q => Array.from({ length: config.loopsPerQueue }, () => loop(q))),
  ).then(() => {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    send({ type: 'done', received, ms, cpuMs: (cpu.user + cpu.system) / 1000 });
    process.exit(0);
  });
});
send({ type: 'ready' });
