// A server that answers every receive with the same 16-message <Messages> reply and every delete
// with 204: the floor set by HTTP, the protocol and the official client, with no queue behind it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiptFactory, encodeReceipt } from '../../src/emulator/index.js';
import { md5Upper } from '../../src/emulator/broker.js';

/** The mix both servers carry: the three CAMS receipt types in equal shares. */
export const BENCH_TYPES = ['ChatAppStatus', 'ChatAppInbound', 'ChatAppAudit'] as const;

function cannedMessages(): string {
  const factory = new ReceiptFactory();
  const now = Date.now();
  let inner = '';
  for (let i = 0; i < 16; i += 1) {
    const body = encodeReceipt(factory.next(BENCH_TYPES[i % BENCH_TYPES.length] as string));
    inner +=
      `<Message><MessageId>${(0x1000 + i).toString(16).toUpperCase().padStart(32, '0')}</MessageId>` +
      `<ReceiptHandle>8-${i.toString(36)}-canned${i}</ReceiptHandle><MessageBodyMD5>${md5Upper(body)}</MessageBodyMD5>` +
      `<MessageBody>${body}</MessageBody><EnqueueTime>${now}</EnqueueTime><FirstDequeueTime>${now}</FirstDequeueTime>` +
      `<NextVisibleTime>${now + 30000}</NextVisibleTime><DequeueCount>1</DequeueCount><Priority>8</Priority></Message>`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Messages xmlns="http://mns.aliyuncs.com/doc/v1/">${inner}</Messages>`;
}

export function startCannedServer(port = 0): Promise<{ server: Server; port: number }> {
  const reply = Buffer.from(cannedMessages());
  let seq = 0;
  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    const requestId = `CANNED000000${(seq++).toString(16).toUpperCase().padStart(12, '0')}`;
    const headers = { Server: 'AliyunMQS', 'x-mns-request-id': requestId, 'x-mns-version': '2015-06-06' };
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, {
          ...headers,
          'Content-Type': 'text/xml;charset=utf-8',
          'Content-Length': reply.length,
        });
        res.end(reply);
      } else {
        res.writeHead(204, { ...headers, 'Content-Length': 0 });
        res.end();
      }
    });
  });
  return new Promise(resolve => {
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}
