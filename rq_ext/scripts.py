"""Lua scripts: each step that must not be interrupted between two commands runs as one script.

The queue's push rule is written once, as the Lua fragment ``PUSH_FN``, and used by every script
that puts a job into a queue and by the producer (the ``PUSH`` script):

- ``scheduler``, and a queue whose key is (wrongly) a list: RPUSH (LPUSH to put it back first);
- any other queue: ZADD with the job hash's ``priority`` (a missing, unreadable or non-finite
  priority counts as 0);
- then ``SADD rq:queues`` and one wake-up token for idle workers (at most ``WAKE_CAP`` kept).

Scripts of this module: ``PUSH``; ``PROMOTE`` (due delayed jobs into their queue); ``RECOVER``
(expired claims of dead workers back into their queue); ``RELEASE`` (a job in hand back into
its queue); ``RELEASE_OWNED`` (every claim a named worker still holds back into its queue). The
lean path's claim and finish are in :mod:`rq_ext.batch_scripts`. Key prefixes come from
:mod:`rq_ext.contract`, substituted when the module loads.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import NoScriptError

from rq_ext import contract

log = logging.getLogger(__name__)

#: What queues more commands into a pipeline (after a script's call), or None.
Queueing = Callable[[Any], object] | None


def with_contract(source: str) -> str:
    """A script with the contract's prefixes substituted for their ``@NAME@`` placeholders."""
    names = {
        "QUEUE_PREFIX": contract.QUEUE_PREFIX,
        "JOB_PREFIX": contract.JOB_PREFIX,
        "QUEUES_SET": contract.QUEUES_SET,
        "WAKE_PREFIX": contract.WAKE_PREFIX,
        "WAKE_CAP": str(contract.WAKE_CAP),
        "SCHEDULER": contract.SCHEDULER_QUEUE,
        "WIP_PREFIX": contract.WIP_PREFIX,
        "LEDGER_PREFIX": contract.LEDGER_PREFIX,
        "CLAIMS": contract.CLAIMS,
        "RESULTS_PREFIX": contract.RESULTS_PREFIX,
        "FINISHED_PREFIX": contract.FINISHED_PREFIX,
    }
    for name, value in names.items():
        source = source.replace(f"@{name}@", value)
    return source


#: push(origin, id, front): the one push rule. Returns false (and pushes nothing) when the
#: queue key holds another type than a sorted set or a list.
PUSH_FN = """
local function priority_of(jk)
  local p = tonumber(redis.call('HGET', jk, 'priority') or '0')
  if p == nil or p ~= p or p == math.huge or p == -math.huge then return 0 end
  return p
end
local function push(origin, id, front)
  local qk = '@QUEUE_PREFIX@' .. origin
  local kind = redis.call('TYPE', qk).ok
  if origin == '@SCHEDULER@' or kind == 'list' then
    if front then redis.call('LPUSH', qk, id) else redis.call('RPUSH', qk, id) end
  elseif kind == 'zset' or kind == 'none' then
    redis.call('ZADD', qk, priority_of('@JOB_PREFIX@' .. id), id)
  else
    return false
  end
  redis.call('SADD', '@QUEUES_SET@', qk)
  local wk = '@WAKE_PREFIX@' .. origin
  redis.call('RPUSH', wk, 1)
  redis.call('LTRIM', wk, -@WAKE_CAP@, -1)
  return true
end
"""

# KEYS: job key. ARGV: origin, id, '1' to put it first (lists only). Returns 1, or Redis'
# WRONGTYPE error when the queue key holds another type.
PUSH = with_contract(
    PUSH_FN
    + """
if push(ARGV[1], ARGV[2], ARGV[3] == '1') then return 1 end
return redis.error_reply('WRONGTYPE queue key @QUEUE_PREFIX@' .. ARGV[1] .. ' is neither a sorted set nor a list')
"""
)

# KEYS: schedulerSet. ARGV: now, batch size. Due jobs go into their origin queue; a job whose
# hash is gone is dropped. Returns the ids that cannot be routed (no origin, or a queue key of
# another type): they stay in schedulerSet until the caller fails them.
PROMOTE = with_contract(
    PUSH_FN
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local bad = {}
for _, id in ipairs(due) do
  local jk = '@JOB_PREFIX@' .. id
  local origin = redis.call('HGET', jk, 'origin')
  if redis.call('EXISTS', jk) == 0 then
    redis.call('ZREM', KEYS[1], id)
  elseif origin and origin ~= '' and push(origin, id, false) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', jk, 'status', 'queued')
  else
    table.insert(bad, id)
  end
end
return bad
"""
)

# requeue(id): job id back into its origin queue (first, for the scheduler list), status
# queued, its started entries cleared. False when it cannot be pushed.
_REQUEUE_FN = """
local function requeue(id)
  local jk = '@JOB_PREFIX@' .. id
  local origin = redis.call('HGET', jk, 'origin') or ''
  if origin == '' or not push(origin, id, true) then return false end
  redis.call('HSET', jk, 'status', 'queued')
  local wip = '@WIP_PREFIX@' .. origin
  for _, member in ipairs(redis.call('ZRANGE', wip, 0, -1)) do
    if string.sub(member, 1, #id + 1) == id .. ':' then redis.call('ZREM', wip, member) end
  end
  return true
end
"""

#: Leases are read and written on Redis' own clock (``TIME``), never a client's: a client thread
#: starved of the interpreter lock between reading its clock and sending the call would write
#: a lease that is already old, and recovery would take a live worker's job. (Redis before 5
#: needs effects replication for a write after TIME; 7 always has it.)
NOW_FN = """
if redis.replicate_commands then redis.replicate_commands() end
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS: claims. ARGV: lease seconds, then job ids. A lease is only ever extended (a late call
# never shortens one that another renewer extended meanwhile). Returns how many were renewed.
RENEW = with_contract(
    NOW_FN
    + """
local expiry = server_now() + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < expiry then
    redis.call('ZADD', KEYS[1], expiry, ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
"""
)

# KEYS: claims. ARGV: (unused), batch size, max recoveries; "now" is Redis' clock.
# Returns {requeued}, {exhausted}, {unroutable}.
RECOVER = with_contract(
    NOW_FN
    + PUSH_FN
    + _REQUEUE_FN
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', server_now(), 'LIMIT', 0, tonumber(ARGV[2]))
local requeued, exhausted, bad = {}, {}, {}
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local jk = '@JOB_PREFIX@' .. id
  local status = redis.call('HGET', jk, 'status')
  if status and status ~= 'finished' and status ~= 'failed' and status ~= 'scheduled' then
    local n = redis.call('HINCRBY', jk, 'recoveries', 1)
    if n > tonumber(ARGV[3]) then
      table.insert(exhausted, id)
    elseif requeue(id) then
      table.insert(requeued, id)
    else
      table.insert(bad, id)
    end
  end
end
return {requeued, exhausted, bad}
"""
)

# KEYS: claims. ARGV: job id. Returns 1 if released.
RELEASE = with_contract(
    PUSH_FN
    + _REQUEUE_FN
    + """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end
if redis.call('EXISTS', '@JOB_PREFIX@' .. ARGV[1]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
if not requeue(ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
)

# KEYS: claims. ARGV: worker name, then ids to keep. Every other claim whose job names that
# worker goes back into its queue: a dead process of the same name's, or a claim whose reply a
# live worker lost to a Redis outage. Returns the released ids.
RELEASE_OWNED = with_contract(
    PUSH_FN
    + _REQUEUE_FN
    + """
local released, keep = {}, {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local jk = '@JOB_PREFIX@' .. id
  local status = redis.call('HGET', jk, 'status')
  if not keep[id] and redis.call('HGET', jk, 'worker_name') == ARGV[1] and status ~= 'finished'
     and status ~= 'failed' and status ~= 'scheduled' and requeue(id) then
    redis.call('ZREM', KEYS[1], id)
    table.insert(released, id)
  end
end
return released
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


async def run_async(client: AsyncRedis, source: str, keys: list[str], args: list[Any]) -> Any:
    """:func:`run` through an asyncio client: by SHA, loading the script when Redis lacks it."""
    sha = sha_of(source)
    try:
        return await client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        await client.script_load(source)
        return await client.evalsha(sha, len(keys), *keys, *args)


def pipelined(connection: Redis, source: str, keys: list[str], args: list[Any], rest: Queueing = None) -> Any:
    """Run a script and then the commands ``rest`` queues, in one round trip; the script's reply.

    The call goes by SHA alone: redis-py's pipelined ``Script`` first asks ``SCRIPT EXISTS``, a
    round trip of its own. When Redis lacks the script (restarted, flushed) none of the call ran,
    so it runs again alone, loaded; ``rest`` ran once. Once the script ran, an error of ``rest``
    is logged, not raised: a caller retrying on errors would run the script twice."""
    with connection.pipeline(transaction=False) as pipe:
        _queue(pipe, source, keys, args, rest)
        results = pipe.execute(raise_on_error=False)
    if isinstance(results[0], NoScriptError):
        return run(connection, source, keys, args)
    return _script_reply(results)


async def pipelined_async(
    client: AsyncRedis, source: str, keys: list[str], args: list[Any], rest: Queueing = None
) -> Any:
    """:func:`pipelined` through an asyncio client."""
    async with client.pipeline(transaction=False) as pipe:
        _queue(pipe, source, keys, args, rest)
        results = await pipe.execute(raise_on_error=False)
    if isinstance(results[0], NoScriptError):
        return await run_async(client, source, keys, args)
    return _script_reply(results)


def _queue(pipe: Any, source: str, keys: list[str], args: list[Any], rest: Queueing) -> None:
    """The script's call by SHA first, then what ``rest`` queues."""
    pipe.evalsha(sha_of(source), len(keys), *keys, *args)
    if rest is not None:
        rest(pipe)


def _script_reply(results: list[Any]) -> Any:
    if isinstance(results[0], Exception):
        raise results[0]
    for failed in (r for r in results[1:] if isinstance(r, Exception)):
        log.warning("a command pipelined after a script failed: %s", failed)
    return results[0]


@functools.cache
def sha_of(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()  # Redis names scripts by SHA-1


def push(connection: Redis, origin: str, job_id: str, client: Any = None, at_front: bool = False) -> Any:
    """Put ``job_id`` into queue ``origin`` by the push rule (in ``client``'s pipeline if given)."""
    args = [origin, job_id, "1" if at_front else "0"]
    return run(connection, PUSH, [contract.job_key(job_id)], args, client)
