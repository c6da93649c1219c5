import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiptFactory, encodeReceipt, formatShanghaiTime } from '../../src/emulator/index.js';
import { Deque, TimeHeap } from '../../src/emulator/structures.js';

test('ChatAppStatus receipts follow Sent→Delivered→Read or end in Failed, in timestamp order', () => {
  const factory = new ReceiptFactory();
  const byMessage = new Map<string, { status: string; ts: number }[]>();
  for (let i = 0; i < 5000; i += 1) {
    const r = factory.next('ChatAppStatus');
    const list = byMessage.get(r['MessageId'] as string) ?? [];
    list.push({ status: r['Status'] as string, ts: r['Timestamp'] as number });
    byMessage.set(r['MessageId'] as string, list);
  }
  const shapes = new Set<string>();
  for (const list of byMessage.values()) {
    const seq = list.map(x => x.status).join('>');
    assert.ok(
      ['Sent', 'Sent>Delivered', 'Sent>Delivered>Read', 'Sent>Failed', 'Failed'].includes(seq),
      `unexpected sequence ${seq}`,
    );
    for (let i = 1; i < list.length; i += 1) assert.ok((list[i]?.ts ?? 0) > (list[i - 1]?.ts ?? 0));
    shapes.add(seq);
  }
  assert.ok(shapes.has('Sent>Delivered>Read') && shapes.has('Sent>Failed') && shapes.has('Failed'));
});

test('ChatAppInbound covers TEXT, IMAGE, REPLY and LOCATION with Message as a JSON string', () => {
  const factory = new ReceiptFactory();
  const seen = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < 500; i += 1) {
    const r = factory.next('ChatAppInbound');
    seen.set(r['Type'] as string, r);
  }
  assert.deepEqual([...seen.keys()].sort(), ['IMAGE', 'LOCATION', 'REPLY', 'TEXT']);
  assert.equal(typeof seen.get('TEXT')?.['Message'], 'string');
  assert.deepEqual(Object.keys(JSON.parse(seen.get('IMAGE')?.['Message'] as string)).sort(), [
    'caption',
    'id',
    'mimeType',
    'url',
  ]);
  assert.deepEqual(Object.keys(JSON.parse(seen.get('REPLY')?.['Message'] as string)).sort(), [
    'payload',
    'text',
  ]);
  assert.deepEqual(Object.keys(JSON.parse(seen.get('LOCATION')?.['Message'] as string)).sort(), [
    'address',
    'latitude',
    'longitude',
    'name',
  ]);
});

test('ChatAppAudit carries template events; a reason only on fail', () => {
  const factory = new ReceiptFactory();
  for (let i = 0; i < 200; i += 1) {
    const r = factory.next('ChatAppAudit');
    assert.equal(r['Type'], 'template');
    assert.equal(r['Reason'] !== '', r['AuditStatus'] === 'fail');
  }
});

test('bodies are Base64 of one JSON object', () => {
  const receipt = { MessageId: '1', Status: 'Read', Name: '测试' };
  const body = encodeReceipt(receipt);
  assert.match(body, /^[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(JSON.parse(Buffer.from(body, 'base64').toString('utf8')), receipt);
});

test('ExpireTime format is yyyy-MM-dd HH:mm:ss in UTC+8', () => {
  assert.equal(formatShanghaiTime(Date.UTC(2026, 0, 1, 16, 30, 5)), '2026-01-02 00:30:05');
});

test('TimeHeap keeps time order through pushes, removals and re-keys; Deque stays FIFO across compaction', () => {
  const heap = new TimeHeap<{ visibleAtMs: number; heapIndex: number; id: number }>();
  const items = Array.from({ length: 1000 }, (_, id) => ({
    visibleAtMs: Math.floor(Math.random() * 1e6),
    heapIndex: -1,
    id,
  }));
  for (const item of items) heap.push(item);
  for (const item of items.slice(0, 300)) heap.remove(item);
  for (const item of items.slice(300, 500)) {
    item.visibleAtMs = Math.floor(Math.random() * 1e6);
    heap.update(item);
  }
  assert.equal(heap.size, 700);
  const popped: number[] = [];
  while (heap.size > 0) popped.push(heap.pop()?.visibleAtMs as number);
  assert.deepEqual(
    popped,
    items
      .slice(300)
      .map(i => i.visibleAtMs)
      .sort((a, b) => a - b),
  );
  assert.ok(items.every(i => i.heapIndex === -1));
  const dq = new Deque<number>();
  for (let i = 0; i < 5000; i += 1) dq.push(i);
  for (let i = 0; i < 3000; i += 1) assert.equal(dq.shift(), i);
  dq.push(5000);
  assert.equal(dq.length, 2001);
  assert.equal(dq.peek(), 3000);
});
