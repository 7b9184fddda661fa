"""Lua scripts: each step that must not be interrupted between two commands runs as one script.

- ``CLAIM``: the first non-empty queues in order give up to N jobs: a sorted set by ZREVRANGE
  0 N-1 + ZREM (highest score first), a list by LPOP. In the same script the claims are recorded
  in ``fusion:claims`` with their lease, so a claimed job is never outside Redis, and the job
  hashes are returned: claiming and loading jobs is one round trip. The lean path (the
  concurrent worker) also starts them there: status, ``started_at``, ``worker_name`` and the
  ``rq:wip:<queue>`` entry.
- ``FINISH``: the bookkeeping of a batch of successful jobs (the lean path's finish).
- ``PROMOTE``: due delayed jobs move from ``schedulerSet`` into their origin queue.
- ``RECOVER``: expired claims (a dead worker's jobs) go back to their queue with their priority.
- ``RELEASE``: a job in hand goes back to its queue (cold shutdown).
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from rq_ext import contract

# KEYS: queue keys in order..., claims, awaiting_retry.
# ARGV: lease expiry, job key prefix, most jobs to claim, then to start them as well (the lean
# path): worker name, started_at (rq's format), now, default job timeout, execution id prefix.
# Returns {{id, queue key, job hash before the claim, whether its delivery ledger exists, its
# rq:wip member ('' unless started)}, ...} in claim order.
CLAIM = """
local n = #KEYS - 2
local claims, awaiting = KEYS[n + 1], KEYS[n + 2]
local lease, prefix, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local worker = ARGV[4]
local LEDGER = '@LEDGER@'
local out, claimed, wip = {}, {}, {}

local function timeout_of(h)
  for j = 1, #h, 2 do
    if h[j] == 'timeout' then return tonumber(h[j + 1]) end
  end
  return nil
end

local function take(q, id, score)
  local jk = prefix .. id
  local h = redis.call('HGETALL', jk)
  if #h == 0 then return end
  local fields = {'origin', string.sub(q, 10)}
  if score then table.insert(fields, 'priority'); table.insert(fields, score) end
  local member = ''
  if worker then
    member = id .. ':' .. ARGV[8] .. (#out + 1)
    local timeout = timeout_of(h) or tonumber(ARGV[7])
    local expiry = '+inf'
    if timeout and timeout >= 0 then expiry = tonumber(ARGV[6]) + timeout + 60 end
    table.insert(wip, {q, expiry, member})
    for _, f in ipairs({'status', 'started', 'started_at', ARGV[5], 'last_heartbeat', ARGV[5],
                        'worker_name', worker}) do table.insert(fields, f) end
  end
  redis.call('HSET', jk, unpack(fields))
  table.insert(claimed, lease); table.insert(claimed, id)
  table.insert(out, {id, q, h, redis.call('EXISTS', LEDGER .. id), member})
end

for i = 1, n do
  local q = KEYS[i]
  while #out < want do
    local left = want - #out
    -- A sorted set (or a missing key) answers ZREVRANGE; a list answers WRONGTYPE: LPOP it.
    local top = redis.pcall('ZREVRANGE', q, 0, left - 1, 'WITHSCORES')
    if top['err'] == nil then
      if #top == 0 then break end
      local ids = {}
      for j = 1, #top, 2 do table.insert(ids, top[j]) end
      redis.call('ZREM', q, unpack(ids))
      for j = 1, #top, 2 do take(q, top[j], top[j + 1]) end
    elseif redis.call('TYPE', q).ok == 'list' then
      local ids = redis.call('LPOP', q, left)
      if not ids then break end
      for _, id in ipairs(ids) do take(q, id, nil) end
    else
      break
    end
  end
  if #out >= want then break end
end
if #claimed > 0 then
  redis.call('ZADD', claims, unpack(claimed))
  local ids = {}
  for j = 2, #claimed, 2 do table.insert(ids, claimed[j]) end
  redis.call('ZREM', awaiting, unpack(ids))
end
local byq = {}
for _, w in ipairs(wip) do
  local args = byq[w[1]]
  if not args then args = {}; byq[w[1]] = args end
  table.insert(args, w[2]); table.insert(args, w[3])
end
for q, args in pairs(byq) do
  redis.call('ZADD', 'rq:wip:' .. string.sub(q, 10), unpack(args))
end
return out
""".replace("@LEDGER@", contract.LEDGER_PREFIX)

# KEYS: claims, worker key. ARGV: now, worker name, working seconds, job count, then per job:
# id, queue, rq:wip member ('' for none), result ttl, ended_at, return value ('' for None),
# started and ended timestamps. Writes what rq's handle_job_success writes, in rq's formats.
FINISH = """
local claims, worker = KEYS[1], KEYS[2]
local now, n = tonumber(ARGV[1]), tonumber(ARGV[4])
local ids, wip, finished = {}, {}, {}
local function push(t, k, ...)
  local list = t[k]
  if not list then list = {}; t[k] = list end
  for _, v in ipairs({...}) do table.insert(list, v) end
end
for i = 0, n - 1 do
  local b = 5 + i * 8
  local id, q, member, ttl = ARGV[b], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3])
  local jk, rk = 'rq:job:' .. id, 'rq:results:' .. id
  table.insert(ids, id)
  if member ~= '' then push(wip, q, member) end
  if ttl == 0 then
    redis.call('DEL', jk, rk)
  else
    redis.call('HSET', jk, 'status', 'finished', 'ended_at', ARGV[b + 4])
    local fields = {'type', '1', 'worker_name', ARGV[2]}
    if ARGV[b + 5] ~= '' then table.insert(fields, 'return_value'); table.insert(fields, ARGV[b + 5]) end
    if ARGV[b + 6] ~= '' then table.insert(fields, 'execution_started_at'); table.insert(fields, ARGV[b + 6]) end
    if ARGV[b + 7] ~= '' then table.insert(fields, 'execution_ended_at'); table.insert(fields, ARGV[b + 7]) end
    redis.call('XADD', rk, 'MAXLEN', '~', '10', '*', unpack(fields))
    if ttl > 0 then
      redis.call('EXPIRE', jk, ttl); redis.call('EXPIRE', rk, ttl)
      push(finished, q, now + ttl, id)
    else
      redis.call('PERSIST', jk); redis.call('PERSIST', rk)
      push(finished, q, '+inf', id)
    end
  end
end
redis.call('ZREM', claims, unpack(ids))
for q, members in pairs(wip) do redis.call('ZREM', 'rq:wip:' .. q, unpack(members)) end
for q, scores in pairs(finished) do redis.call('ZADD', 'rq:finished:' .. q, unpack(scores)) end
redis.call('HINCRBY', worker, 'successful_job_count', n)
redis.call('HINCRBYFLOAT', worker, 'total_working_time', ARGV[3])
return n
"""

# KEYS: schedulerSet, rq:queues. ARGV: now, batch size, job key prefix, queue key prefix.
# Returns the ids that could not be routed (no origin).
PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local bad = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[3] .. id
  local origin = redis.call('HGET', jk, 'origin')
  if redis.call('EXISTS', jk) == 1 and origin and origin ~= '' then
    local qk = ARGV[4] .. origin
    if origin == 'scheduler' then
      redis.call('RPUSH', qk, id)
    else
      redis.call('ZADD', qk, tonumber(redis.call('HGET', jk, 'priority') or '0') or 0, id)
    end
    redis.call('SADD', KEYS[2], qk)
    redis.call('HSET', jk, 'status', 'queued')
    redis.call('RPUSH', 'fusion:wake:' .. origin, 1)
    redis.call('LTRIM', 'fusion:wake:' .. origin, -64, -1)
  elseif redis.call('EXISTS', jk) == 1 then
    table.insert(bad, id)
  end
end
return bad
"""

# Put job ARGV[i] back into its origin queue with its priority; clear its started entries.
_REQUEUE_FN = """
local function requeue(id, jk, qprefix)
  local origin = redis.call('HGET', jk, 'origin') or ''
  local qk = qprefix .. origin
  if origin == 'scheduler' then
    redis.call('LPUSH', qk, id)
  else
    redis.call('ZADD', qk, tonumber(redis.call('HGET', jk, 'priority') or '0') or 0, id)
  end
  redis.call('SADD', 'rq:queues', qk)
  redis.call('HSET', jk, 'status', 'queued')
  redis.call('RPUSH', 'fusion:wake:' .. origin, 1)
  redis.call('LTRIM', 'fusion:wake:' .. origin, -64, -1)
  local wip = 'rq:wip:' .. origin
  for _, member in ipairs(redis.call('ZRANGE', wip, 0, -1)) do
    if string.sub(member, 1, #id + 1) == id .. ':' then redis.call('ZREM', wip, member) end
  end
end
"""

# KEYS: claims. ARGV: now, batch size, max recoveries, job key prefix, queue key prefix.
# Returns {requeued ids}, {exhausted ids}.
RECOVER = (
    _REQUEUE_FN
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local requeued, exhausted = {}, {}
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[4] .. id
  local status = redis.call('HGET', jk, 'status')
  if status and status ~= 'finished' and status ~= 'failed' and status ~= 'scheduled' then
    local n = redis.call('HINCRBY', jk, 'recoveries', 1)
    if n > tonumber(ARGV[3]) then
      table.insert(exhausted, id)
    else
      requeue(id, jk, ARGV[5])
      table.insert(requeued, id)
    end
  end
end
return {requeued, exhausted}
"""
)

# KEYS: claims. ARGV: job id, job key prefix, queue key prefix. Returns 1 if released.
RELEASE = (
    _REQUEUE_FN
    + """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local jk = ARGV[2] .. ARGV[1]
if redis.call('EXISTS', jk) == 0 then return 0 end
requeue(ARGV[1], jk, ARGV[3])
return 1
"""
)

_cache: dict[tuple[int, str], Any] = {}


def run(connection: Redis, source: str, keys: list[str], args: list[Any], client: Any = None) -> Any:
    """Run a script by its SHA (loaded once per connection pool), falling back to EVAL; ``client``
    may be a pipeline of ``connection`` to queue the call in it."""
    cache_key = (id(connection.connection_pool), source)
    script = _cache.get(cache_key)
    if script is None:
        script = _cache[cache_key] = connection.register_script(source)
    return script(keys=keys, args=args, client=client)
