// The benchmark's handler: does no work of its own (or awaits `delayMs`, standing for a database
// write), and records what it saw so the benchmark can check it: every dedupe key into a Redis set,
// a call counter (per process too), and, for receipts stamped with BenchSentAtMs, the time from that
// stamp to the handler's start. Records are buffered and written every `flushMs` in one pipeline, so
// the bookkeeping costs a fraction of a Redis round trip per receipt. Option `serializeBy` serialises by
// MessageId.
import { Redis } from 'ioredis';

let redis;
let prefix = 'bench';
let delayMs = 0;
let timer;
let keys = [];
let latencies = [];
let flushing = Promise.resolve();

function flush() {
  if (keys.length === 0 && latencies.length === 0) return flushing;
  const batchKeys = keys;
  const batchLatencies = latencies;
  keys = [];
  latencies = [];
  const pipeline = redis.pipeline();
  if (batchKeys.length > 0) {
    pipeline.sadd(`${prefix}:seen`, ...batchKeys);
    pipeline.incrby(`${prefix}:calls`, batchKeys.length);
    pipeline.hincrby(`${prefix}:calls-by-pid`, String(process.pid), batchKeys.length);
  }
  if (batchLatencies.length > 0) pipeline.rpush(`${prefix}:latency`, ...batchLatencies);
  flushing = flushing.then(() => pipeline.exec()).catch(() => undefined);
  return flushing;
}

export default {
  name: 'bench',
  messageTypes: ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'],
  init(options) {
    redis = new Redis(String(options.redisUrl));
    prefix = String(options.prefix ?? 'bench');
    delayMs = Number(options.delayMs ?? 0);
    timer = setInterval(flush, Number(options.flushMs ?? 100));
    timer.unref();
    // One receipt per message at a time (a message's statuses queue up behind each other).
    if (options.serializeBy) this.serializeBy = receipt => String(receipt.MessageId ?? receipt.WabaId);
  },
  async handle(receipt, ctx) {
    const startedAtMs = Date.now();
    const sentAtMs = receipt.BenchSentAtMs;
    if (typeof sentAtMs === 'number') latencies.push(startedAtMs - sentAtMs);
    if (delayMs > 0) await new Promise(resolve => setTimeout(resolve, delayMs));
    keys.push(`${ctx.messageType}|${ctx.dedupeKey}`);
  },
  async close() {
    clearInterval(timer);
    await flush();
    await redis.quit();
  },
};
