import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Handler } from '../../src/contracts/handler.js';
import { defaultQueueName } from '../../src/emulator/index.js';
import type { SmsReportReceipt, SmsUpReceipt } from '../../src/index.js';
import { eventually } from '../helpers/redis.js';
import { startRig } from './harness.js';

interface Seen {
  readonly type: string;
  readonly key: string;
  readonly bizId?: string;
  readonly success?: boolean;
  readonly sequenceId?: string;
}

/** A handler typed for the SMS receipts, as a user would write it. */
function smsHandler(): Handler<'SmsReport' | 'SmsUp'> & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    name: 'sms',
    messageTypes: ['SmsReport', 'SmsUp'],
    seen,
    handle(receipt, ctx) {
      if (ctx.messageType === 'SmsReport') {
        const report = receipt as SmsReportReceipt;
        seen.push({ type: 'SmsReport', key: ctx.dedupeKey, bizId: report.biz_id, success: report.success });
      } else {
        const up = receipt as SmsUpReceipt;
        seen.push({ type: 'SmsUp', key: ctx.dedupeKey, sequenceId: up.sequence_id });
      }
    },
  };
}

test('SmsReport and SmsUp queues: emulator-generated receipts, with duplicates, reach the handler once each', async () => {
  const sms = smsHandler();
  const queues = { SmsReport: defaultQueueName('SmsReport'), SmsUp: defaultQueueName('SmsUp') };
  const rig = await startRig([sms as unknown as Handler], { emulator: { queues } });
  try {
    const report = await rig.emulator.inject({ messageType: 'SmsReport', count: 60, duplicateRatio: 0.3 });
    await rig.emulator.inject({ messageType: 'SmsUp', count: 20, duplicateRatio: 0.3 });
    assert.ok(report.duplicates > 0, 'some SmsReport bodies enqueued twice');
    await eventually(() => rig.totals().deleted === rig.totals().sent, 20_000, 'every SMQ message deleted');
    const reports = sms.seen.filter(s => s.type === 'SmsReport');
    assert.equal(reports.length, 60, 'each distinct report handled');
    assert.equal(new Set(reports.map(r => r.key)).size, 60, 'none twice');
    assert.ok(
      reports.every(r => typeof r.bizId === 'string' && typeof r.success === 'boolean'),
      'typed fields: biz_id a string, success a boolean',
    );
    const ups = sms.seen.filter(s => s.type === 'SmsUp');
    assert.equal(ups.length, 20);
    assert.ok(ups.every(u => typeof u.sequenceId === 'string' && u.key.endsWith(`|${u.sequenceId}`)));
  } finally {
    await rig.close();
  }
});
