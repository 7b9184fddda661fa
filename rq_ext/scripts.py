"""Lua scripts: each step that must not be interrupted between two commands runs as one script.

- ``CLAIM``: the first non-empty queue in order gives its job: a sorted set by ZREVRANGE 0 0 +
  ZREM (highest score first), a list by LPOP. In the same script the claim is recorded in
  ``fusion:claims`` with its lease, so a claimed job is never outside Redis, and the job hash
  is returned: claiming and loading a job is one round trip.
- ``PROMOTE``: due delayed jobs move from ``schedulerSet`` into their origin queue.
- ``RECOVER``: expired claims (a dead worker's jobs) go back to their queue with their priority.
- ``RELEASE``: a job in hand goes back to its queue (cold shutdown).
"""

from __future__ import annotations

from typing import Any

from redis import Redis

# KEYS: queue keys in order..., claims, awaiting_retry. ARGV: lease expiry, job key prefix.
CLAIM = """
local n = #KEYS - 2
local claims, awaiting = KEYS[n + 1], KEYS[n + 2]
for i = 1, n do
  local q = KEYS[i]
  while true do
    local id, score = nil, nil
    -- A sorted set (or a missing key) answers ZREVRANGE; a list answers WRONGTYPE: LPOP it.
    local top = redis.pcall('ZREVRANGE', q, 0, 0, 'WITHSCORES')
    if top['err'] == nil then
      if #top == 0 then break end
      id, score = top[1], top[2]
      redis.call('ZREM', q, id)
    elseif redis.call('TYPE', q).ok == 'list' then
      id = redis.call('LPOP', q)
      if not id then break end
    else
      break
    end
    local jk = ARGV[2] .. id
    if redis.call('EXISTS', jk) == 1 then
      redis.call('ZADD', claims, ARGV[1], id)
      redis.call('ZREM', awaiting, id)
      redis.call('HSET', jk, 'origin', string.sub(q, 10))
      if score then redis.call('HSET', jk, 'priority', score) end
      return {id, q, redis.call('HGETALL', jk)}
    end
  end
end
return nil
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
