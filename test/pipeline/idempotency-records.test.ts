import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { IdempotencyStore, recordDigest } from '../../src/pipeline/idempotency.js';
import { KeySpace } from '../../src/pipeline/keys.js';
import { PrivateRedis, uniquePrefix } from '../helpers/redis.js';

// A Redis of this file's own: memory readings must not see other tests' keys.
let server: PrivateRedis;
let redis: Redis;
before(async () => {
  server = await PrivateRedis.start();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.destroy();
});

const WEEK = 7 * 24 * 3600;

async function commitAll(store: IdempotencyStore, handler: string, keys: readonly string[]): Promise<void> {
  const claims = await Promise.all(keys.map(k => store.claim(handler, k, 30_000)));
  const ran = claims.map((c, i) => {
    assert.equal(c.state, 'claimed', `claim of ${keys[i]}`);
    return { handler, dedupeKey: keys[i] as string, token: c.state === 'claimed' ? c.token : '' };
  });
  for (let i = 0; i < ran.length; i += 500) await store.commit(ran.slice(i, i + 500));
}

async function usedMemory(): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
}

async function keysMatching(pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

test('every completed receipt is found again, others are claimable, and leases are gone', async () => {
  const keys = new KeySpace(uniquePrefix('idem'));
  const store = new IdempotencyStore(redis, keys, WEEK);
  const done = Array.from({ length: 3000 }, (_, i) => `done-${i}|Delivered`);
  await commitAll(store, 'h', done);
  const again = await Promise.all(done.map(k => store.claim('h', k, 30_000)));
  assert.equal(again.filter(c => c.state === 'done').length, done.length);
  // Another handler's records are its own.
  assert.equal((await store.claim('other', 'done-1|Delivered', 30_000)).state, 'claimed');
  assert.equal((await store.claim('h', 'never-seen', 30_000)).state, 'claimed');
  assert.equal((await keysMatching(`${keys.prefix}:lock:h:done-*`)).length, 0);
});

test('records stay in small listpack hashes with an expiry, at most 25 bytes each', async () => {
  const keys = new KeySpace(uniquePrefix('size'));
  const store = new IdempotencyStore(redis, keys, WEEK);
  const n = 20_000;
  await commitAll(
    store,
    'bench',
    Array.from({ length: n }, (_, i) => `17957467486389967${String(i).padStart(6, '0')}|Read`),
  );
  const shards = await keysMatching(`${keys.at(0).records('bench')}:*`);
  assert.ok(shards.length > 100, `${shards.length} shards`);
  let fields = 0;
  for (const shard of shards) {
    assert.equal(await redis.object('ENCODING', shard), 'listpack', shard);
    const len = await redis.hlen(shard);
    assert.ok(len <= 128, `${shard} holds ${len}`);
    fields += len;
    assert.ok((await redis.ttl(shard)) > WEEK, `${shard} expires after the window`);
  }
  assert.equal(fields, n);
  // What the records hold is what deleting them frees (client buffers and scripts stay out of it).
  const before = await usedMemory();
  for (let i = 0; i < shards.length; i += 500) await redis.del(...shards.slice(i, i + 500));
  const perRecord = (before - (await usedMemory())) / n;
  assert.ok(perRecord <= 25, `${perRecord.toFixed(1)} B per record`);
});

test('a record is found in every bucket of the window, and its bucket expires whole after it', async () => {
  const keys = new KeySpace(uniquePrefix('buckets'));
  // A 14 s window: buckets of 2 s, so the record below is looked up from later buckets, then expires.
  const store = new IdempotencyStore(redis, keys, 14);
  await commitAll(store, 'h', ['early|Read']);
  const shards = await keysMatching(`${keys.at(0).records('h')}:*`);
  assert.equal(shards.length, 1);
  const ttl = await redis.ttl(shards[0] as string);
  assert.ok(ttl > 14 && ttl <= 14 + 2 + 60, `bucket TTL ${ttl} s: the window after the bucket ends`);
  await new Promise(r => setTimeout(r, 4_500));
  assert.equal((await store.claim('h', 'early|Read', 1000)).state, 'done', 'found from a later bucket');
  await commitAll(store, 'h', ['later|Read']);
  assert.equal(
    (await keysMatching(`${keys.at(0).records('h')}:*`)).length,
    2,
    'a new bucket for the later record',
  );
  // Expired whole: what the window no longer covers is gone (PEXPIREAT moved into the past stands for time).
  await redis.pexpireat(shards[0] as string, Date.now() - 1);
  assert.equal((await store.claim('h', 'early|Read', 1000)).state, 'claimed');
  assert.equal((await store.claim('h', 'later|Read', 1000)).state, 'done');
});

test('records in split shards of older buckets are found, with new ones, by claims checked in one call', async () => {
  const keys = new KeySpace(uniquePrefix('split'));
  // Buckets of 2 s: 700 records split their bucket's shards through several levels, then the bucket ages.
  const store = new IdempotencyStore(redis, keys, 14);
  const old = Array.from({ length: 700 }, (_, i) => `old-${i}|Read`);
  await commitAll(store, 'h', old);
  assert.ok((await keysMatching(`${keys.at(0).records('h')}:*`)).length > 8, 'the bucket split');
  await new Promise(r => setTimeout(r, 2_500));
  const fresh = Array.from({ length: 100 }, (_, i) => `fresh-${i}|Read`);
  await commitAll(store, 'h', fresh);
  const unseen = Array.from({ length: 100 }, (_, i) => `unseen-${i}|Read`);
  // Interleaved, so every call checks old, fresh and unseen receipts against every live bucket.
  const all = old.flatMap((k, i) => [k, ...(i < 100 ? [fresh[i] as string, unseen[i] as string] : [])]);
  const states = await Promise.all(all.map(k => store.claim('h', k, 1000)));
  const stateOf = new Map(all.map((k, i) => [k, states[i]?.state]));
  assert.deepEqual(
    [...new Set(old.map(k => stateOf.get(k)))],
    ['done'],
    'every record of the older bucket found',
  );
  assert.deepEqual([...new Set(fresh.map(k => stateOf.get(k)))], ['done']);
  assert.deepEqual([...new Set(unseen.map(k => stateOf.get(k)))], ['claimed']);
});

/** `n` dedupe keys whose digests all fall on one side of a shard's first split (the low bit of their hash). */
function keysOnSide(side: 0 | 1, n: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const key = `${tag}-${i}|Read`;
    if (((recordDigest(key)[3] ?? 0) & 1) === side) out.push(key);
  }
  return out;
}

for (const side of [0, 1] as const) {
  test(`a split that leaves ${side ? 'the old' : 'the new'} shard empty keeps it, with its expiry, for later records`, async () => {
    const keys = new KeySpace(uniquePrefix(`side${side}`));
    const store = new IdempotencyStore(redis, keys, WEEK);
    // 46 records in the bucket's one shard: the 46th splits it, and every digest goes to one side of it.
    const first = keysOnSide(side, 46, 'first');
    await commitAll(store, 'h', first);
    const shards = await keysMatching(`${keys.at(0).records('h')}:*`);
    assert.equal(shards.length, 2, 'the bucket split into two shards');
    // Then records that belong to the emptied side: its shard must still expire with the bucket.
    const later = keysOnSide(side === 1 ? 0 : 1, 20, 'later');
    await commitAll(store, 'h', later);
    assert.deepEqual((await keysMatching(`${keys.at(0).records('h')}:*`)).sort(), shards.sort());
    for (const shard of shards) {
      assert.ok((await redis.ttl(shard)) > WEEK, `${shard} expires after the window`);
      assert.equal(await redis.object('ENCODING', shard), 'listpack', shard);
    }
    const states = await Promise.all([...first, ...later].map(k => store.claim('h', k, 1000)));
    assert.deepEqual([...new Set(states.map(c => c.state))], ['done']);
  });
}

test('a digest is 12 bytes and differs between keys', () => {
  assert.equal(recordDigest('a').length, 12);
  assert.notDeepEqual(recordDigest('a'), recordDigest('b'));
});
