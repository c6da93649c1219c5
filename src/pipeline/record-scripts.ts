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
local function shardKey(meta, bucket, shard)
  return meta .. ':' .. bucket .. ':' .. string.format('%d', shard)
end
local function isDone(meta, digest)
  local fields = {}
  for b = oldest, current do fields[#fields + 1] = b end
  local states = redis.call('HMGET', meta, unpack(fields))
  local h = hashOf(digest)
  for i, state in ipairs(states) do
    local l, s = parse(state)
    if l and redis.call('HEXISTS', shardKey(meta, fields[i], shardOf(h, l, s)), digest) == 1 then
      return true
    end
  end
  return false
end
`;

/**
 * Done-check and lease for several (handler, receipt) pairs. KEYS per claim: meta, lease, legacy record
 * (the previous layout's per-receipt key, honoured until it expires). ARGV: bucketSeconds, windowSeconds,
 * then per claim: digest, leaseMs, token. Answers 'done', 'claimed' or 'busy:<ms left>' per claim.
 */
export const CLAIM = `${COMMON}
local out = {}
for i = 1, #KEYS / 3 do
  local meta, lease, legacy = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local digest, leaseMs, token = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  if isDone(meta, digest) or redis.call('EXISTS', legacy) == 1 then
    out[i] = 'done'
  elseif redis.call('SET', lease, token, 'NX', 'PX', leaseMs) then
    out[i] = 'claimed'
  else
    out[i] = 'busy:' .. redis.call('PTTL', lease)
  end
end
return out`;

/** Records one digest in the current bucket, splitting a shard when the bucket outgrows its shards. */
const RECORD = `
local SHARD_LOAD = 45
local function expireAt(bucket) return (bucket + 1) * B + W + 60 end
local function forgetOld(meta)
  for _, f in ipairs(redis.call('HKEYS', meta)) do
    if tonumber(f) and tonumber(f) < oldest then redis.call('HDEL', meta, f) end
  end
  redis.call('EXPIRE', meta, W + 2 * B + 60)
end
local function split(meta, l, s)
  local from = shardKey(meta, current, s)
  local to = shardKey(meta, current, s + 2 ^ l)
  local moved = {}
  for _, f in ipairs(redis.call('HKEYS', from)) do
    if hashOf(f) % (2 ^ (l + 1)) ~= s then moved[#moved + 1] = f end
  end
  for _, f in ipairs(moved) do redis.call('HSET', to, f, '1') end
  if #moved > 0 then
    redis.call('HDEL', from, unpack(moved))
    redis.call('EXPIREAT', to, expireAt(current))
  end
end
local function record(meta, digest)
  local state = redis.call('HGET', meta, current)
  local l, s, n = parse(state)
  if not l then
    l, s, n = 0, 0, 0
    forgetOld(meta)
  end
  local key = shardKey(meta, current, shardOf(hashOf(digest), l, s))
  if redis.call('HSET', key, digest, '1') == 0 then return end
  redis.call('EXPIREAT', key, expireAt(current))
  n = n + 1
  if n > SHARD_LOAD * (2 ^ l + s) then
    split(meta, l, s)
    s = s + 1
    if s == 2 ^ l then l, s = l + 1, 0 end
  end
  redis.call('HSET', meta, current, l .. ':' .. s .. ':' .. n)
end
`;

/**
 * Commits several attempts. Each records every handler that ran (its record; its lease released only if
 * still ours) and, when its job finished, the job's finished marker and completion stream entry.
 * ARGV = bucketSeconds, windowSeconds, markerTtl, streamMaxLen, then per attempt: n, finished (0/1),
 * (digest, token) × n [, outcome, type, jobId]; KEYS per attempt: (meta, lease) × n [, marker, stream].
 */
export const COMMIT = `${COMMON}${RECORD}
local markerTtl, maxLen = ARGV[3], ARGV[4]
local a, k = 5, 1
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  local finished = ARGV[a + 1] == '1'
  a = a + 2
  for i = 1, n do
    record(KEYS[k], ARGV[a])
    if redis.call('GET', KEYS[k + 1]) == ARGV[a + 1] then redis.call('DEL', KEYS[k + 1]) end
    k = k + 2
    a = a + 2
  end
  if finished then
    redis.call('SET', KEYS[k], ARGV[a], 'EX', markerTtl)
    redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', maxLen, '*', 't', ARGV[a + 1], 'j', ARGV[a + 2], 'o', ARGV[a])
    k = k + 2
    a = a + 3
  end
end
return 1`;

/** Lets a lease go if it is still ours. KEYS = lease; ARGV = token. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
