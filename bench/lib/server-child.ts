// Runs the emulator or the canned-reply server in its own process, so the client under test does
// not share an event loop with it. Reports its port and, on request, its CPU time over IPC.
import { startEmulator } from '../../src/emulator/index.js';
import { startCannedServer } from './canned-server.js';

type Request = { type: 'cpu' } | { type: 'stop' };

const kind = process.argv[2];
const send = (message: unknown): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  let stop: () => Promise<void>;
  if (kind === 'emulator') {
    const emulator = await startEmulator({
      port: 0,
      queues: { BenchStatus: 'Alicom-Queue-1234567890123456-Bench' },
    });
    stop = () => emulator.close();
    send({ type: 'ready', port: emulator.port });
  } else {
    const { server, port } = await startCannedServer();
    stop = () =>
      new Promise(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    send({ type: 'ready', port });
  }
  // The bench (parent) went away: do not linger as an orphan holding its port and stdout.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: Request) => {
    if (message.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    if (message.type === 'stop') {
      void stop();
      setTimeout(() => process.exit(0), 200).unref();
    }
  });
}

void main();
