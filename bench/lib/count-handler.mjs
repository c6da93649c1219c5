// The benchmark's handler: does no work of its own (or awaits `delayMs`, standing for a database
// write), and records what it saw so the benchmark can check it: every dedupe key into a Redis set,
// a call counter (per process too), and, for receipts stamped with BenchSentAtMs, the time from that
// stamp to the handler's start. Records are buffered and written every `flushMs` in one pipeline, so
// the bookkeeping costs a fraction of a Redis round trip per receipt. Option `serializeBy` serialises by
// MessageId; `costMs`, `perReceiptMs` and `pool` model a database (each call costs costMs + perReceiptMs per
// receipt, `pool` calls at a time); `batchSize` (and `lingerMs`) make it a handleBatch handler.
import { Redis } from 'ioredis';
import PQueue from 'p-queue';

let redis;
let prefix = 'bench';
let delayMs = 0;
/** A database of `pool` connections: each call costs `costMs` plus `perReceiptMs` per receipt. */
let db;
let costMs = 0;
let perReceiptMs = 0;
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

function record(receipt, ctx, startedAtMs) {
  const sentAtMs = receipt.BenchSentAtMs;
  if (typeof sentAtMs === 'number') latencies.push(startedAtMs - sentAtMs);
  keys.push(`${ctx.messageType}|${ctx.dedupeKey}`);
}

/** One database call for `n` receipts, when a cost is set. */
async function work(n) {
  const ms = costMs + perReceiptMs * n;
  if (ms > 0) await db.add(() => new Promise(resolve => setTimeout(resolve, ms)));
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
    costMs = Number(options.costMs ?? 0);
    perReceiptMs = Number(options.perReceiptMs ?? 0);
    db = new PQueue({ concurrency: Number(options.pool ?? Infinity) });
    if (options.batchSize) {
      this.batch = { maxSize: Number(options.batchSize), lingerMs: Number(options.lingerMs ?? 10) };
      this.handleBatch = async (receipts, ctxs) => {
        const startedAtMs = Date.now();
        await work(receipts.length);
        receipts.forEach((receipt, i) => record(receipt, ctxs[i], startedAtMs));
      };
    }
    // One receipt per message at a time (a message's statuses queue up behind each other).
    if (options.serializeBy) this.serializeBy = receipt => String(receipt.MessageId ?? receipt.WabaId);
  },
  async handle(receipt, ctx) {
    const startedAtMs = Date.now();
    if (delayMs > 0) await new Promise(resolve => setTimeout(resolve, delayMs));
    await work(1);
    record(receipt, ctx, startedAtMs);
  },
  async close() {
    clearInterval(timer);
    await flush();
    await redis.quit();
  },
};
