"""The lean path's two scripts: one claims (and starts) a batch of jobs, one finishes a batch.

- ``CLAIM``: the first non-empty queues in order give up to N jobs: a sorted set by ZREVRANGE
  0 N-1 + ZREM (highest score first), a list by LPOP. In the same script the claims are recorded
  in ``fusion:claims`` with their lease and the job hashes name the claiming worker, so a
  claimed job is never outside Redis and a same-name restart finds its dead predecessor's
  claims; the job hashes are returned, so claiming and loading jobs is one round trip. The
  concurrent worker also starts them there: status, ``started_at`` and the ``rq:wip:<queue>``
  entry.
- ``FINISH``: the bookkeeping of a batch of successful jobs, with their outbox entries (the
  success callbacks), in one atomic step.
"""

from __future__ import annotations

from rq_ext.scripts import NOW_FN, with_contract

# KEYS: queue keys in order..., claims, awaiting_retry.
# ARGV: lease seconds (the expiry is on Redis' clock), most jobs to claim, worker name, '1' to
# start them as well (the lean path), then started_at (rq's format), now, default job timeout, execution id prefix.
# Returns {{id, queue key, job hash before the claim, whether its delivery ledger exists, its
# rq:wip member ('' unless started)}, ...} in claim order.
CLAIM = with_contract(
    NOW_FN
    + """
local n = #KEYS - 2
local claims, awaiting = KEYS[n + 1], KEYS[n + 2]
local lease, want, worker, start = server_now() + tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4] == '1'
local out, claimed, wip = {}, {}, {}
local skip = #'@QUEUE_PREFIX@' + 1

local function timeout_of(h)
  for j = 1, #h, 2 do
    if h[j] == 'timeout' then return tonumber(h[j + 1]) end
  end
  return nil
end

local function take(q, id, score)
  local jk = '@JOB_PREFIX@' .. id
  local h = redis.call('HGETALL', jk)
  if #h == 0 then return end
  local fields = {'origin', string.sub(q, skip), 'worker_name', worker}
  if score then table.insert(fields, 'priority'); table.insert(fields, score) end
  local member = ''
  if start then
    member = id .. ':' .. ARGV[8] .. (#out + 1)
    local timeout = timeout_of(h) or tonumber(ARGV[7])
    local expiry = '+inf'
    if timeout and timeout >= 0 then expiry = tonumber(ARGV[6]) + timeout + 60 end
    table.insert(wip, {q, expiry, member})
    for _, f in ipairs({'status', 'started', 'started_at', ARGV[5], 'last_heartbeat', ARGV[5]}) do
      table.insert(fields, f)
    end
  end
  redis.call('HSET', jk, unpack(fields))
  table.insert(claimed, lease); table.insert(claimed, id)
  table.insert(out, {id, q, h, redis.call('EXISTS', '@LEDGER_PREFIX@' .. id), member})
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
  redis.call('ZADD', '@WIP_PREFIX@' .. string.sub(q, skip), unpack(args))
end
return out
"""
)

#: Arguments per job of ``FINISH``.
FINISH_ARGS = 10

# KEYS: claims, worker key, outbox entries, outbox due. ARGV: now, worker name, working seconds,
# job count, then per job: id, queue, rq:wip member ('' for none), result ttl, ended_at, return
# value ('' for None), started and ended timestamps, outbox entry id and JSON ('' for none).
# Writes what rq's handle_job_success writes, in rq's formats, and the jobs' outbox entries.
FINISH = with_contract("""
local claims, worker = KEYS[1], KEYS[2]
local now, n = tonumber(ARGV[1]), tonumber(ARGV[4])
local ids, wip, finished = {}, {}, {}
local function push(t, k, ...)
  local list = t[k]
  if not list then list = {}; t[k] = list end
  for _, v in ipairs({...}) do table.insert(list, v) end
end
for i = 0, n - 1 do
  local b = 5 + i * 10
  local id, q, member, ttl = ARGV[b], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3])
  local jk, rk = '@JOB_PREFIX@' .. id, '@RESULTS_PREFIX@' .. id
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
  if ARGV[b + 8] ~= '' then
    redis.call('HSET', KEYS[3], ARGV[b + 8], ARGV[b + 9])
    redis.call('ZADD', KEYS[4], now, ARGV[b + 8])
  end
end
redis.call('ZREM', claims, unpack(ids))
for q, members in pairs(wip) do redis.call('ZREM', '@WIP_PREFIX@' .. q, unpack(members)) end
for q, scores in pairs(finished) do redis.call('ZADD', '@FINISHED_PREFIX@' .. q, unpack(scores)) end
redis.call('HINCRBY', worker, 'successful_job_count', n)
redis.call('HINCRBYFLOAT', worker, 'total_working_time', ARGV[3])
return n
""")
