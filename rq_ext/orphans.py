"""Orphaned jobs: a job hash whose status says it waits or runs (queued, started, scheduled)
while its id is in no queue, registry, claim, ``schedulerSet`` or awaiting-retry set, and has
been so for longer than an age (no date of the hash is newer). ``rq requeue --all`` into a
priority queue leaves one (its RPUSH fails after the job left the failed registry)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis

from rq_ext import contract, scripts
from rq_ext.job import DATE_FIELDS, parse_date

STATUSES = frozenset({"queued", "started", "scheduled"})
#: Job keys read per SCAN step.
SCAN_COUNT = 500
#: rq registries a job may legitimately sit in, per origin queue.
REGISTRIES = contract.REGISTRY_PREFIXES

# KEYS: queue key, job key, claims, schedulerSet, awaiting retry. ARGV: job id.
# Puts the job back with its priority unless something took it meanwhile.
_PUT_BACK = """
for i = 3, 5 do
  if redis.call('ZSCORE', KEYS[i], ARGV[1]) then return 0 end
end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'list' then
  if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
  redis.call('RPUSH', KEYS[1], ARGV[1])
else
  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
  redis.call('ZADD', KEYS[1], tonumber(redis.call('HGET', KEYS[2], 'priority') or '0') or 0, ARGV[1])
end
redis.call('HSET', KEYS[2], 'status', 'queued')
return 1
"""


@dataclass
class Orphan:
    job_id: str
    origin: str
    status: str
    idle_s: float

    def describe(self) -> str:
        return f"job {self.job_id} ({self.status}, queue {self.origin or '?'}) in no queue for {self.idle_s:.0f}s"


def _last_activity(values: list[bytes | None]) -> float | None:
    stamps = []
    for raw in values:
        if raw:
            try:
                stamps.append(parse_date(raw).timestamp())
            except ValueError:
                continue
    return max(stamps) if stamps else None


def _candidates(connection: Redis, keys: list[str], min_age: float, now: float) -> list[Orphan]:
    fields = ["status", "origin", *DATE_FIELDS]
    with connection.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hmget(key, fields)
        replies = pipe.execute(raise_on_error=False)
    found = []
    for key, reply in zip(keys, replies, strict=True):
        if not isinstance(reply, list):
            continue
        status, origin = contract.text(reply[0]), contract.text(reply[1])
        last = _last_activity(reply[2:])
        if status in STATUSES and last is not None and now - last > min_age:
            found.append(Orphan(key[len(contract.JOB_PREFIX) :], origin, status, round(now - last, 1)))
    return found


def _in_queue(connection: Redis, key: str, job_id: str) -> bool:
    kind = contract.text(connection.type(key))
    if kind == "list":
        return connection.lpos(key, job_id) is not None
    return kind == "zset" and connection.zscore(key, job_id) is not None


def _in_wip(connection: Redis, origin: str, job_id: str) -> bool:
    key = contract.WIP_PREFIX + origin
    return any(True for _ in connection.zscan_iter(key, match=f"{job_id}:*", count=1000))


def is_placed(connection: Redis, orphan: Orphan, elsewhere: set[str]) -> bool:
    """Whether the job sits anywhere a worker or the server would find it."""
    job_id = orphan.job_id
    if job_id in elsewhere:
        return True
    sets = [contract.CLAIMS, contract.AWAITING_RETRY, contract.SCHEDULER_SET]
    sets += [prefix + orphan.origin for prefix in REGISTRIES] if orphan.origin else []
    with connection.pipeline(transaction=False) as pipe:
        for key in sets:
            pipe.zscore(key, job_id)
        scores = pipe.execute(raise_on_error=False)
    if any(s is not None and not isinstance(s, Exception) for s in scores):
        return True
    if orphan.origin and _in_queue(connection, contract.queue_key(orphan.origin), job_id):
        return True
    return bool(orphan.origin) and _in_wip(connection, orphan.origin, job_id)


#: Keys rq-dashboard's Compact leaves, and the temporary keys of a repair.
COMPACT_PATTERN = contract.QUEUE_PREFIX + "_compact:*"
REPAIR_PREFIX = contract.QUEUE_PREFIX + "_repair:"


def leftover_keys(connection: Redis) -> list[str]:
    """``rq:queue:_compact:*`` keys and repair keys an interrupted repair left."""
    keys = {contract.text(k) for k in connection.scan_iter(match=COMPACT_PATTERN, count=1000)}
    keys |= {contract.text(k) for k in connection.scan_iter(match=REPAIR_PREFIX + "*", count=1000)}
    return sorted(keys)


def _leftover_ids(connection: Redis) -> set[str]:
    ids: set[str] = set()
    for key in leftover_keys(connection):
        kind = contract.text(connection.type(key))
        raw = connection.lrange(key, 0, -1) if kind == "list" else connection.zrange(key, 0, -1)
        ids.update(contract.text(i) for i in raw)
    return ids


def find_orphans(connection: Redis, min_age: float, now: float | None = None) -> list[Orphan]:
    """Every orphaned job idle for more than ``min_age`` seconds (one SCAN over job keys)."""
    now = time.time() if now is None else now
    elsewhere = _leftover_ids(connection)
    batch: list[str] = []
    found: list[Orphan] = []
    for raw in connection.scan_iter(match=contract.JOB_PREFIX + "*", count=SCAN_COUNT):
        key = contract.text(raw)
        if ":" not in key[len(contract.JOB_PREFIX) :]:
            batch.append(key)
        if len(batch) >= SCAN_COUNT:
            found += _candidates(connection, batch, min_age, now)
            batch = []
    found += _candidates(connection, batch, min_age, now)
    return [o for o in found if not is_placed(connection, o, elsewhere)]


def put_back(connection: Redis, orphan: Orphan) -> bool:
    """Put an orphan back into its queue with its priority; False when it has no origin or
    something placed it meanwhile."""
    if not orphan.origin:
        return False
    keys = [
        contract.queue_key(orphan.origin),
        contract.job_key(orphan.job_id),
        contract.CLAIMS,
        contract.AWAITING_RETRY,
        contract.SCHEDULER_SET,
    ]
    placed = bool(scripts.run(connection, _PUT_BACK, keys, [orphan.job_id]))
    if placed:
        connection.sadd(contract.QUEUES_SET, keys[0])
    return placed
