"""``run_worker.py doctor``: finds, and with ``fix`` repairs, what other tools do to the queues.

- a priority queue key that is a list (rq's ``rq requeue --all`` RPUSHes into ``rq:queue:<q>``):
  renamed atomically to ``rq:queue:_repair:<q>:<stamp>`` (so a job written meanwhile starts a
  new sorted set), then merged back with each job's ``priority`` in chunks of ``CHUNK``;
- ``rq:queue:_compact:*`` keys (rq's ``Queue.compact()``, rq-dashboard's Compact, renames the
  queue there and then fails on a sorted set): merged back into each job's ``origin`` queue;
- orphaned jobs (``rq_ext.orphans``): put back with their priority;
- stale worker registrations: removed; queues no live worker serves: reported only.

:func:`check_queue_types` / :func:`repair_wrong_types` are cheap enough to run every few seconds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from config import get_settings
from rq_ext import contract, orphans, scripts
from rq_ext.orphans import REPAIR_PREFIX, leftover_keys
from rq_ext.queue import known_queue_names
from rq_ext.registrations import WORKERS_BY_QUEUE, WORKERS_SET, is_live, serving, worker_rows

#: Job ids moved per script call when merging a key back (keeps each call short).
CHUNK = 500

# KEYS: queue key, temp key. Renames the queue out of the way only while it is still a list.
_RENAME_LIST = """
if redis.call('TYPE', KEYS[1]).ok ~= 'list' then return -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
redis.call('RENAME', KEYS[1], KEYS[2])
return redis.call('LLEN', KEYS[2])
"""

# KEYS: source key (list or sorted set). ARGV: job prefix, queue prefix, target queue ('' = each
# job's origin), chunk size, queues set. Returns {placed, dropped (no job hash), kept}.
_MERGE = """
local kind = redis.call('TYPE', KEYS[1]).ok
local n = tonumber(ARGV[4])
local ids
if kind == 'list' then ids = redis.call('LRANGE', KEYS[1], 0, n - 1)
elseif kind == 'zset' then ids = redis.call('ZRANGE', KEYS[1], 0, n - 1)
else return {0, 0, 0} end
local placed, dropped, kept = 0, 0, 0
for _, id in ipairs(ids) do
  local jkey = ARGV[1] .. id
  local move = false
  if redis.call('EXISTS', jkey) == 0 then
    dropped = dropped + 1
    move = true
  else
    local origin = ARGV[3]
    if origin == '' then origin = redis.call('HGET', jkey, 'origin') or '' end
    local qkey = ARGV[2] .. origin
    local qtype = redis.call('TYPE', qkey).ok
    if origin ~= '' and origin == 'scheduler' and qtype ~= 'zset' then
      redis.call('RPUSH', qkey, id)
      move = true
    elseif origin ~= '' and origin ~= 'scheduler' and qtype ~= 'list' then
      local priority = tonumber(redis.call('HGET', jkey, 'priority') or '0') or 0
      redis.call('ZADD', qkey, priority, id)
      move = true
    end
    if move then
      redis.call('HSET', jkey, 'status', 'queued')
      redis.call('SADD', ARGV[5], qkey)
      placed = placed + 1
    else
      kept = kept + 1
    end
  end
  if move then
    if kind == 'list' then redis.call('LREM', KEYS[1], 1, id) else redis.call('ZREM', KEYS[1], id) end
  end
end
return {placed, dropped, kept}
"""


@dataclass
class Finding:
    kind: str  # wrong_type, compact_key, orphan, stale_worker, unserved_queue
    key: str
    detail: str
    count: int = 0
    fixed: int | None = None
    #: The key's type, for wrong_type findings.
    type: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "findings": [asdict(f) for f in self.findings]}


def _expected_type(name: str) -> str:
    return "list" if name == contract.SCHEDULER_QUEUE else "zset"


def check_queue_types(connection: Redis, names: list[str] | None = None) -> list[Finding]:
    """Queue keys of the wrong type (one TYPE per known queue, pipelined)."""
    names = known_queue_names(connection) if names is None else names
    keys = [contract.queue_key(n) for n in names] + [contract.SCHEDULER_SET]
    with connection.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.type(key)
        kinds = [contract.text(k) for k in pipe.execute()]
    found = []
    for name, key, kind in zip([*names, "schedulerSet"], keys, kinds, strict=True):
        expected = "zset" if name == "schedulerSet" else _expected_type(name)
        if kind not in ("none", expected):
            count = connection.llen(key) if kind == "list" else connection.zcard(key) if kind == "zset" else 0
            found.append(Finding("wrong_type", key, f"{key} is a {kind}, expected a {expected}", count, type=kind))
    return found


def merge_back(connection: Redis, source: str, target_queue: str = "") -> tuple[int, int]:
    """Move every job id of ``source`` into its queue (``target_queue``, or each job's origin)
    with its priority; returns (placed, dropped for having no job hash)."""
    placed = dropped = 0
    while True:
        args = [contract.JOB_PREFIX, contract.QUEUE_PREFIX, target_queue, CHUNK, contract.QUEUES_SET]
        moved, gone, _kept = scripts.run(connection, _MERGE, [source], args)
        placed, dropped = placed + moved, dropped + gone
        if moved + gone == 0:
            return placed, dropped


def repair_wrong_types(connection: Redis, names: list[str] | None = None) -> dict[str, int]:
    """Turn every priority queue that is a list back into a sorted set; returns the jobs moved
    per queue key (empty when every queue was of the right type)."""
    moved: dict[str, int] = {}
    for finding in check_queue_types(connection, names):
        name = finding.key[len(contract.QUEUE_PREFIX) :]
        if finding.type != "list" or name in (contract.SCHEDULER_QUEUE, "schedulerSet"):
            continue
        temp = f"{REPAIR_PREFIX}{name}:{time.time():.6f}"
        if scripts.run(connection, _RENAME_LIST, [finding.key, temp], []) >= 0:
            moved[finding.key] = merge_back(connection, temp, name)[0]
    return moved


def _size(connection: Redis, key: str) -> int:
    kind = contract.text(connection.type(key))
    return connection.llen(key) if kind == "list" else connection.zcard(key) if kind == "zset" else 0


def _repair_target(key: str) -> str:
    return key[len(REPAIR_PREFIX) :].rsplit(":", 1)[0] if key.startswith(REPAIR_PREFIX) else ""


def _leftovers(connection: Redis, fix: bool) -> list[Finding]:
    found = []
    for key in leftover_keys(connection):
        finding = Finding("compact_key", key, f"{key} holds jobs outside any queue", _size(connection, key))
        if fix:
            finding.fixed = merge_back(connection, key, _repair_target(key))[0]
        found.append(finding)
    return found


def _workers(connection: Redis, fix: bool, max_age: float) -> list[Finding]:
    rows = worker_rows(connection)
    found = []
    for row in rows:
        if is_live(row, max_age):
            continue
        age = "no heartbeat" if row.heartbeat_age_s is None else f"heartbeat {row.heartbeat_age_s:.0f}s ago"
        finding = Finding("stale_worker", row.key, f"worker {row.name}: {'no hash' if not row.exists else age}", 1)
        if fix:
            with connection.pipeline() as pipe:
                pipe.srem(WORKERS_SET, row.key)
                for queue in set(row.queues) | set(known_queue_names(connection)):
                    pipe.srem(WORKERS_BY_QUEUE + queue, row.key)
                pipe.delete(row.key)
                pipe.execute()
            finding.fixed = 1
        found.append(finding)
    served = serving(rows, max_age)
    for name in known_queue_names(connection):
        depth = _size(connection, contract.queue_key(name))
        if depth and not served.get(name):
            found.append(
                Finding(
                    "unserved_queue",
                    contract.queue_key(name),
                    f"{depth} job(s) wait in {name}: no live worker serves it",
                    depth,
                )
            )
    return found


def diagnose(connection: Redis, fix: bool = False, orphan_age: float | None = None) -> Report:
    """Every check; with ``fix`` each finding that can be repaired is, in a safe order (types,
    then leftover keys, then orphans, which the first two would otherwise look like)."""
    settings = get_settings()
    report = Report()
    types = check_queue_types(connection)
    if fix:
        moved = repair_wrong_types(connection)
        for finding in types:
            finding.fixed = moved.get(finding.key, 0)
    report.findings += types
    report.findings += _leftovers(connection, fix)
    age = settings.DOCTOR_ORPHAN_AGE if orphan_age is None else orphan_age
    for orphan in orphans.find_orphans(connection, age):
        finding = Finding("orphan", contract.job_key(orphan.job_id), orphan.describe(), 1)
        if fix:
            finding.fixed = int(orphans.put_back(connection, orphan))
        report.findings.append(finding)
    report.findings += _workers(connection, fix, settings.WORKER_TTL + 60)
    return report


def render(report: Report, fix: bool) -> str:
    if report.healthy:
        return "healthy: nothing found"
    lines = []
    for f in report.findings:
        done = "" if f.fixed is None else f" -> fixed {f.fixed}"
        lines.append(f"{f.kind:<15} {f.detail}{done}")
    lines.append(
        f"{len(report.findings)} finding(s){' (repaired what could be)' if fix else '; run with --fix to repair'}"
    )
    return "\n".join(lines)
