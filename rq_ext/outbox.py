"""The outbox: callbacks and ``/retryTask/`` hand-overs kept in Redis until they are delivered.

An outcome that promises a callback or a hand-over writes its entry in the same atomic step as
the job's final state (:mod:`rq_ext.outcome`), so a worker killed at any moment loses neither.
Any worker's sender (:mod:`rq_ext.sender`) delivers any entry. Keys (``rq_ext.contract``):

- ``fusion:outbox:entries``: entry id -> the entry as JSON;
- ``fusion:outbox:due``: entry id -> when it may next be tried. A sender *leases* entries by
  moving their score past the lease in one script, so one sender holds an entry at a time and
  a sender that dies only delays it by the lease;
- ``fusion:outbox:dead``: entries given up (newest first, capped), with their last error.

An entry's id is its idempotency key: ``<job id>:<outcome>:<retryCount>``. The same job and
outcome always give the same id, so an outcome applied twice (a job re-run after a kill)
rewrites the same entry, and a receiver can drop a second delivery by its ``Idempotency-Key``.
This module only reads and writes Redis; delivery is the sender's.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from rq_ext import contract, scripts

CALLBACK = "callback"
HANDOVER = "retry"


@dataclass
class Entry:
    """One promised delivery: a form POST to ``url`` (callback) or the job's args as JSON to the
    server's ``/retryTask/`` (hand-over; on refusal, the job is scheduled locally after
    ``fallback_delay`` seconds)."""

    id: str
    kind: str
    job_id: str
    outcome: str
    url: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    body: str = ""
    fallback_delay: float = 0.0
    created: float = field(default_factory=time.time)
    attempts: int = 0
    last_error: str = ""

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: bytes | str) -> Entry:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def entry_id(job_id: str, outcome: str, retry_count: int) -> str:
    return f"{job_id}:{outcome}:{retry_count}"


def stage(pipe: Any, entries: list[Entry], now: float | None = None) -> None:
    """Queue the writes of ``entries`` in ``pipe`` (a transaction that applies an outcome)."""
    if not entries:
        return
    due = time.time() if now is None else now
    pipe.hset(contract.OUTBOX_ENTRIES, mapping={e.id: e.dumps() for e in entries})
    pipe.zadd(contract.OUTBOX_DUE, {e.id: due for e in entries})


# KEYS: due, entries. ARGV: now, most entries, lease expiry. Returns the leased entries' JSON.
_LEASE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    table.insert(out, raw)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

# KEYS: due, entries. ARGV: id, entry JSON, next try. Only an entry still present is rescheduled.
_AGAIN = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

# KEYS: due, entries, dead, stats. ARGV: id, entry JSON, cap, counter name.
_GIVE_UP = """
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
return 1
"""

# KEYS: due, entries, awaiting_retry, schedulerSet, job key. ARGV: id, job id, due time.
# The server refused the hand-over: schedule the job locally, unless it was re-enqueued meanwhile
# (a claim removed it from awaiting_retry).
_SCHEDULE_LOCALLY = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[3], ARGV[2]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
redis.call('HSET', KEYS[5], 'status', 'scheduled')
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return 1
"""


def lease(connection: Redis, most: int, lease_seconds: float) -> list[Entry]:
    """Take up to ``most`` due entries for ``lease_seconds``."""
    now = time.time()
    raw = scripts.run(
        connection,
        _LEASE,
        [contract.OUTBOX_DUE, contract.OUTBOX_ENTRIES],
        [now, most, now + lease_seconds],
    )
    return [Entry.loads(r) for r in raw or []]


def done(connection: Redis, entry: Entry) -> None:
    with connection.pipeline() as pipe:
        pipe.zrem(contract.OUTBOX_DUE, entry.id)
        pipe.hdel(contract.OUTBOX_ENTRIES, entry.id)
        pipe.execute()


def again(connection: Redis, entry: Entry, delay: float, error: str) -> None:
    entry.attempts += 1
    entry.last_error = error[:300]
    args = [entry.id, entry.dumps(), time.time() + delay]
    scripts.run(connection, _AGAIN, [contract.OUTBOX_DUE, contract.OUTBOX_ENTRIES], args)


def give_up(connection: Redis, entry: Entry, error: str) -> bool:
    """Move the entry to the dead list; True if this call removed it."""
    entry.attempts += 1
    entry.last_error = error[:300]
    record = {**asdict(entry), "given_up": time.time()}
    given_up = scripts.run(
        connection,
        _GIVE_UP,
        [contract.OUTBOX_DUE, contract.OUTBOX_ENTRIES, contract.OUTBOX_DEAD, contract.STATS],
        [entry.id, json.dumps(record), contract.OUTBOX_DEAD_CAP, f"outbox_given_up:{entry.kind}"],
    )
    return bool(given_up)


def schedule_locally(connection: Redis, entry: Entry) -> bool:
    """Settle a refused hand-over by scheduling its job in ``schedulerSet``."""
    keys = [
        contract.OUTBOX_DUE,
        contract.OUTBOX_ENTRIES,
        contract.AWAITING_RETRY,
        contract.SCHEDULER_SET,
        contract.job_key(entry.job_id),
    ]
    args = [entry.id, entry.job_id, time.time() + entry.fallback_delay]
    return bool(scripts.run(connection, _SCHEDULE_LOCALLY, keys, args))


def due_now(connection: Redis) -> int:
    return int(connection.zcount(contract.OUTBOX_DUE, "-inf", time.time()))


def pending(connection: Redis) -> int:
    return int(connection.zcard(contract.OUTBOX_DUE))


def entries(connection: Redis, limit: int = 100) -> list[tuple[Entry, float]]:
    """Pending entries with their next try, soonest first (for ``info`` and the dashboard)."""
    ids: list[Any] = connection.zrange(contract.OUTBOX_DUE, 0, limit - 1, withscores=True)
    if not ids:
        return []
    raws = connection.hmget(contract.OUTBOX_ENTRIES, [member for member, _ in ids])
    return [(Entry.loads(raw), float(score)) for (_, score), raw in zip(ids, raws, strict=True) if raw]
