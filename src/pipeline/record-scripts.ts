// The Lua side of the idempotency records (see RecordLayout in record-layout.ts for the layout itself).
//
// A handler's records live in time buckets of `bucketSeconds`, each a set of small hashes (shards) in
// Redis's listpack encoding: field = 12-byte digest of the dedupe key, value '1'. A bucket's shards expire
// whole, `windowSeconds` after the bucket ends. Shards grow by linear hashing: a bucket starts with one
// shard, and each time its records exceed SHARD_LOAD per shard, the next shard in turn is split in two, so
// every shard stays far below hash-max-listpack-entries (128) whatever the traffic. The state of a bucket,
// "level:split:count", is one field of the handler's meta hash. Shard keys are built here, from the meta
// key: they share its hash tag, so every script call touches one slot. Time comes from Redis (TIME), so
// hosts with skewed clocks agree on the bucket.

/** Common part: the live buckets now, the shard of a digest, the bucket state. */
const COMMON = `
local B, W = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
local current = math.floor(now / B)
local oldest = math.floor((now - W) / B)
local function hashOf(d)
  local b1, b2, b3, b4 = string.byte(d, 1, 4)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end
local function parse(state)
  if not state then return nil end
  local l, s, n = string.match(state, '^(%d+):(%d+):(%d+)$')
  return tonumber(l), tonumber(s), tonumber(n)
end
local function shardOf(h, l, s)
  local a = h % (2 ^ l)
  if a < s then a = h % (2 ^ (l + 1)) end
  return a
end
local function bucketPrefix(meta, bucket)
  return meta .. ':' .. bucket .. ':'
end
local function shardKey(meta, bucket, shard)
  return bucketPrefix(meta, bucket) .. string.format('%d', shard)
end
local fields = {}
for b = oldest, current do fields[#fields + 1] = b end
local live = {}
-- A handler's live buckets (shard key prefix, level, split), read (one HMGET) and parsed once per call
-- however many receipts it checks.
local function liveBuckets(meta)
  local found = live[meta]
  if found then return found end
  found = {}
  for i, state in ipairs(redis.call('HMGET', meta, unpack(fields))) do
    local l, s = parse(state)
    if l then found[#found + 1] = { bucketPrefix(meta, fields[i]), l, s } end
  end
  live[meta] = found
  return found
end
local function isDone(meta, digest)
  local h = hashOf(digest)
  for _, b in ipairs(liveBuckets(meta)) do
    local shard = string.format('%d', shardOf(h, b[2], b[3]))
    if redis.call('HEXISTS', b[1] .. shard, digest) == 1 then return true end
  end
  return false
end
`;

/**
 * Done-check and lease for several (handler, receipt) pairs. KEYS per claim: meta, lease, and while ARGV[3]
 * is '1' the legacy record (the previous layout's per-receipt key: see IdempotencyStore). ARGV:
 * bucketSeconds, windowSeconds, legacy (0/1), then per claim: digest, leaseMs, token. Answers 'done',
 * 'claimed' or 'busy:<ms left>' per claim.
 */
export const CLAIM = `${COMMON}
local legacy = ARGV[3] == '1'
local stride = legacy and 3 or 2
local out = {}
for i = 1, #KEYS / stride do
  local k = stride * (i - 1)
  local meta, lease = KEYS[k + 1], KEYS[k + 2]
  local digest, leaseMs, token = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  if isDone(meta, digest) or (legacy and redis.call('EXISTS', KEYS[k + 3]) == 1) then
    out[i] = 'done'
  elseif redis.call('SET', lease, token, 'NX', 'PX', leaseMs) then
    out[i] = 'claimed'
  else
    out[i] = 'busy:' .. redis.call('PTTL', lease)
  end
end
return out`;

/**
 * Read-only done-check in a layout being migrated from. KEYS per record: meta, and while ARGV[3] is '1' the
 * legacy record; ARGV: bucketSeconds, windowSeconds, legacy (0/1), then a digest per record. Answers 1
 * (done) or 0 per record.
 */
export const RECORDED = `${COMMON}
local legacy = ARGV[3] == '1'
local stride = legacy and 2 or 1
local out = {}
for i = 1, #KEYS / stride do
  local k = stride * (i - 1)
  local done = isDone(KEYS[k + 1], ARGV[3 + i]) or (legacy and redis.call('EXISTS', KEYS[k + 2]) == 1)
  out[i] = done and 1 or 0
end
return out`;

/**
 * Records one digest in the current bucket, splitting a shard when the bucket outgrows its shards. A shard
 * gets its expiry when it is made (the bucket's first record, or a split); a split that would leave one
 * side empty keeps it with an empty placeholder field, so no shard is ever re-created without one. The
 * bucket state is read once per handler and call, and written back once at the end (saveStates).
 */
const RECORD = `
local SHARD_LOAD = 45
local expireAt = (current + 1) * B + W + 60
local buckets = {}
local function forgetOld(meta)
  for _, f in ipairs(redis.call('HKEYS', meta)) do
    if tonumber(f) and tonumber(f) < oldest then redis.call('HDEL', meta, f) end
  end
  redis.call('EXPIRE', meta, W + 2 * B + 60)
end
local function stateOf(meta)
  local st = buckets[meta]
  if st then return st end
  local l, s, n = parse(redis.call('HGET', meta, current))
  if l then
    st = { l = l, s = s, n = n, fresh = false }
  else
    st = { l = 0, s = 0, n = 0, fresh = true }
    forgetOld(meta)
  end
  buckets[meta] = st
  return st
end
local function keep(key)
  redis.call('HSET', key, '', '')
  redis.call('EXPIREAT', key, expireAt)
end
local function split(meta, l, s)
  local from = shardKey(meta, current, s)
  local to = shardKey(meta, current, s + 2 ^ l)
  local moved, stay = {}, {}
  for _, f in ipairs(redis.call('HKEYS', from)) do
    if f ~= '' then
      local side = hashOf(f) % (2 ^ (l + 1)) ~= s and moved or stay
      side[#side + 1] = f
      side[#side + 1] = '1'
    end
  end
  if #moved == 0 then keep(to) return end
  -- Both halves written whole, one HSET each: cheaper than a call per moved field and an HDEL of them.
  redis.call('HSET', to, unpack(moved))
  redis.call('EXPIREAT', to, expireAt)
  redis.call('DEL', from)
  if #stay == 0 then keep(from) return end
  redis.call('HSET', from, unpack(stay))
  redis.call('EXPIREAT', from, expireAt)
end
local function record(meta, digest)
  local st = stateOf(meta)
  local key = shardKey(meta, current, shardOf(hashOf(digest), st.l, st.s))
  if redis.call('HSET', key, digest, '1') == 0 then return end
  if st.fresh then
    redis.call('EXPIREAT', key, expireAt)
    st.fresh = false
  end
  st.n = st.n + 1
  st.dirty = true
  if st.n > SHARD_LOAD * (2 ^ st.l + st.s) then
    split(meta, st.l, st.s)
    st.s = st.s + 1
    if st.s == 2 ^ st.l then st.l, st.s = st.l + 1, 0 end
  end
end
local function saveStates()
  for meta, st in pairs(buckets) do
    if st.dirty then redis.call('HSET', meta, current, st.l .. ':' .. st.s .. ':' .. st.n) end
  end
end
`;

/**
 * Commits several attempts. Each records every handler that ran (its record; its lease released only if
 * still ours) and, when its job finished, the job's completion stream entry.
 * ARGV = bucketSeconds, windowSeconds, streamMaxLen, dual (0/1: also write the previous layout's key, while
 * a rolling upgrade may still run old processes), then per attempt: n, finished (0/1), (digest, token) × n
 * [, outcome, type, jobId]; KEYS per attempt: (meta, lease[, legacy while dual]) × n [, stream].
 */
export const COMMIT = `${COMMON}${RECORD}
local maxLen, dual = ARGV[3], ARGV[4] == '1'
local stride = dual and 3 or 2
local a, k = 5, 1
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  local finished = ARGV[a + 1] == '1'
  a = a + 2
  for i = 1, n do
    record(KEYS[k], ARGV[a])
    if redis.call('GET', KEYS[k + 1]) == ARGV[a + 1] then redis.call('DEL', KEYS[k + 1]) end
    if dual then redis.call('SET', KEYS[k + 2], '1', 'EX', W) end
    k = k + stride
    a = a + 2
  end
  if finished then
    redis.call('XADD', KEYS[k], 'MAXLEN', '~', maxLen, '*', 't', ARGV[a + 1], 'j', ARGV[a + 2], 'o', ARGV[a])
    k = k + 1
    a = a + 3
  end
end
saveStates()
return 1`;

/** Lets a lease go if it is still ours. KEYS = lease; ARGV = token. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
