"""The circuit breaker's three steps, each one Lua call (layout: :mod:`rq_ext.breakers`).

Every script reads Redis' own clock (``TIME``), so the workers of every host agree on when a
cool-down ends. A breaker hash lives ``ttl`` ms after its last write; trips are indexed in
``contract.BREAKERS`` for the readers.
"""

from __future__ import annotations

#: Redis before 5 needs effects replication for TIME before a write; 7 always has it.
_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

#: Before an attempt. KEYS: breaker hash, stats hash. ARGV: probe ms, window ms (0: no rate
#: rule), ttl ms, the skip counter's field. Returns {verdict, wait ms, failures in a row}:
#: verdict 0 closed (send), 1 the probe (send), 2 open (skip), 3 probe running elsewhere (skip).
ADMIT = (
    _NOW
    + """
local key = KEYS[1]
local probe_ms, window_ms, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', key, 'state', 'until', 'probe_until', 'fails', 'w_start')
if f[1] == 'open' then
  local until_ms, probe = tonumber(f[2]) or 0, tonumber(f[3]) or 0
  if now < until_ms or probe > now then
    redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
    if now < until_ms then return {2, until_ms - now, 0} end
    return {3, probe - now, 0}
  end
  redis.call('HSET', key, 'probe_until', now + probe_ms)
  return {1, 0, 0}
end
if window_ms > 0 then
  if now - (tonumber(f[5]) or 0) >= window_ms then
    redis.call('HSET', key, 'w_start', now, 'w_calls', 1, 'w_fails', 0)
  else
    redis.call('HINCRBY', key, 'w_calls', 1)
  end
  redis.call('PEXPIRE', key, ttl)
end
return {0, 0, tonumber(f[4]) or 0}
"""
)

#: After a retryable failure. KEYS: breaker hash, index, stats hash. ARGV: was the probe (1/0),
#: failures in a row that trip, failure rate that trips (0: off), least attempts for the rate,
#: window ms, cool-down ms, ttl ms, error class, channel, gateway, label, trip counter's field.
#: Returns {1 if it opened now else 0, failures in a row}.
FAILED = (
    _NOW
    + """
local key = KEYS[1]
local window_ms, cooldown, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local f = redis.call('HMGET', key, 'state', 'w_start', 'w_calls')
if f[1] == 'open' and ARGV[1] ~= '1' then return {0, 0} end
local fails = redis.call('HINCRBY', key, 'fails', 1)
redis.call('HSET', key, 'error', ARGV[8])
redis.call('PEXPIRE', key, ttl)
if f[1] ~= 'open' then
  local calls, wfails = tonumber(f[3]) or 0, 1
  if window_ms > 0 and now - (tonumber(f[2]) or 0) >= window_ms then
    redis.call('HSET', key, 'w_start', now, 'w_calls', 1, 'w_fails', 1)
    calls = 1
  else
    wfails = redis.call('HINCRBY', key, 'w_fails', 1)
  end
  local rate, least = tonumber(ARGV[3]), tonumber(ARGV[4])
  local over = window_ms > 0 and rate > 0 and calls >= least and wfails / calls >= rate
  if fails < tonumber(ARGV[2]) and not over then return {0, fails} end
end
redis.call('HSET', key, 'state', 'open', 'until', now + cooldown, 'probe_until', 0, 'opened_at', now,
  'channel', ARGV[9], 'gateway', ARGV[10], 'label', ARGV[11])
redis.call('HINCRBY', key, 'trips', 1)
redis.call('ZADD', KEYS[2], now, key)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('HINCRBY', KEYS[3], ARGV[12], 1)
return {1, fails}
"""
)

#: After a success (or an answer that proves the gateway up). KEYS: breaker hash, index. ARGV:
#: was the probe (1/0). The probe's success closes the breaker; a success while closed ends the
#: run of failures. Returns 1 if it closed now, else 0.
SUCCEEDED = (
    _NOW
    + """
local key = KEYS[1]
local state = redis.call('HGET', key, 'state')
if state == 'open' then
  if ARGV[1] ~= '1' then return 0 end
  redis.call('HSET', key, 'state', 'closed', 'until', 0, 'probe_until', 0, 'fails', 0,
    'w_start', now, 'w_calls', 0, 'w_fails', 0)
  redis.call('ZADD', KEYS[2], now, key)
  return 1
end
if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'fails', 0) end
return 0
"""
)

#: The probe ended with neither answer (a permanent error of our own, a deferral): the next
#: attempt probes instead. KEYS: breaker hash.
RELEASED = """
if redis.call('HGET', KEYS[1], 'state') == 'open' then redis.call('HSET', KEYS[1], 'probe_until', 0) end
return 0
"""
