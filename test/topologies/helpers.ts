import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { captureLogger } from '../handlers/helpers.js';
import { eventually } from '../helpers/redis.js';
import { countingHandler, startRig, type Rig } from '../daemon/harness.js';

/**
 * Sends `batches` batches of `perBatch` distinct ChatAppStatus receipts (10% of the messages sent twice),
 * one every `everyMs`: a receipt stream that keeps flowing while the test breaks Redis. Resolves with the
 * number of distinct receipts sent.
 */
async function receiptStream(
  rig: Rig,
  opts: { tag: string; batches: number; perBatch: number; everyMs: number },
): Promise<number> {
  for (let b = 0; b < opts.batches; b += 1) {
    const receipts = Array.from({ length: opts.perBatch }, (_, i) => ({
      MessageId: `${opts.tag}-${b}-${i}`,
      Status: 'Delivered',
      Timestamp: 1,
    }));
    await rig.emulator.inject({ messageType: 'ChatAppStatus', receipts, duplicateRatio: 0.1 });
    await new Promise(resolve => setTimeout(resolve, opts.everyMs));
  }
  return opts.batches * opts.perBatch;
}

/** Every SMQ message deleted, none in flight or waiting. */
function drained(rig: Rig): boolean {
  const t = rig.totals();
  return t.deleted >= t.sent && t.inFlight === 0 && t.visible === 0;
}

/**
 * Runs the daemon on `redis` (the configuration's `redis` section), streams 600 receipts over about 3 s, and
 * calls `fail` (a master killed) once 100 are handled. Asserts that every receipt was handled and every SMQ
 * message deleted, that none ran more than twice, and that the failover did not flood the log; reports
 * the doubles and the warnings as test diagnostics.
 */
export async function streamThroughFailover(
  t: TestContext,
  redis: Record<string, unknown>,
  fail: (rig: Rig) => Promise<string>,
): Promise<void> {
  const handler = countingHandler(20);
  const { logger, lines } = captureLogger('info');
  const rig = await startRig([handler], {
    logger,
    redis,
    extra: { pipeline: { lockDurationMs: 5000, stalledIntervalMs: 1000 } },
  });
  try {
    const stream = receiptStream(rig, { tag: 'failover', batches: 30, perBatch: 20, everyMs: 100 });
    await eventually(() => handler.effects.size >= 100, 30_000, 'some receipts handled');
    const what = await fail(rig);
    const total = await stream;
    await eventually(() => handler.effects.size === total, 45_000, `all ${total} receipts handled`);
    await eventually(() => drained(rig), 30_000, 'every SMQ message deleted');
    const twice = [...handler.effects.values()].filter(n => n > 1);
    t.diagnostic(`${what}; ${total} receipts, lost 0, handled twice ${twice.length}`);
    assert.equal(handler.effects.size, total, 'every receipt handled: none lost');
    // A completion record the old master had not replicated is lost once; the redelivery records it again.
    assert.ok(Math.max(...handler.effects.values()) <= 2, 'no receipt handled more than twice');
    const warnings = lines.filter(l => l['level'] === 'warn' || l['level'] === 'error');
    const events = [...new Set(warnings.map(l => String(l['event'])))].sort();
    t.diagnostic(`${warnings.length} warnings logged during the failover: ${events.join(', ')}`);
    assert.ok(warnings.length < 200, `no log flood: ${warnings.length} warnings`);
  } finally {
    await rig.close();
  }
}
