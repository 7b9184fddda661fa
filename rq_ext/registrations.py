"""rq's worker hashes ``rq:worker:<name>`` (and the ``rq:workers`` sets), read without rq's
Worker objects so that a hash the worker writes more fields into shows them."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis

from rq_ext import contract
from rq_ext.job import parse_date

WORKERS_SET = contract.WORKERS_SET
WORKER_PREFIX = contract.WORKER_PREFIX
WORKERS_BY_QUEUE = "rq:workers:"
#: Fields the worker does not write yet; shown as "-" until it does (see docs/dashboard.md).
EXTRA_FIELDS = ("worker_class", "concurrency", "dry_run")
FIELDS = (
    "hostname",
    "pid",
    "queues",
    "state",
    "last_heartbeat",
    "birth",
    "death",
    "successful_job_count",
    "failed_job_count",
    "current_job",
    *EXTRA_FIELDS,
)


@dataclass
class WorkerRow:
    name: str
    key: str
    exists: bool
    hostname: str
    pid: str
    queues: list[str]
    state: str
    heartbeat_age_s: float | None
    jobs_done: int
    jobs_failed: int
    worker_class: str
    concurrency: str
    dry_run: str
    dead: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _age(raw: str, now: float) -> float | None:
    if not raw:
        return None
    try:
        return round(now - parse_date(raw).timestamp(), 1)
    except ValueError:
        return None


def _count(raw: str) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


def _row(key: str, values: list[Any], now: float) -> WorkerRow:
    data = dict(zip(FIELDS, (contract.text(v) for v in values), strict=True))
    return WorkerRow(
        name=key[len(WORKER_PREFIX) :],
        key=key,
        exists=any(values),
        hostname=data["hostname"] or "-",
        pid=data["pid"] or "-",
        queues=[q for q in data["queues"].split(",") if q],
        state=data["state"] or "-",
        heartbeat_age_s=_age(data["last_heartbeat"], now),
        jobs_done=_count(data["successful_job_count"]),
        jobs_failed=_count(data["failed_job_count"]),
        worker_class=data["worker_class"] or "-",
        concurrency=data["concurrency"] or "-",
        dry_run=data["dry_run"] or "-",
        dead=bool(data["death"]),
    )


def worker_rows(connection: Redis, now: float | None = None) -> list[WorkerRow]:
    """Every worker registered in ``rq:workers`` (including ones whose hash has gone)."""
    now = time.time() if now is None else now
    keys = sorted(contract.text(k) for k in connection.smembers(WORKERS_SET))
    with connection.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hmget(key, list(FIELDS))
        replies = pipe.execute(raise_on_error=False)
    return [
        _row(key, reply if isinstance(reply, list) else [None] * len(FIELDS), now)
        for key, reply in zip(keys, replies, strict=True)
    ]


def is_live(row: WorkerRow, max_age: float) -> bool:
    return row.exists and not row.dead and row.heartbeat_age_s is not None and row.heartbeat_age_s <= max_age


def serving(rows: list[WorkerRow], max_age: float) -> dict[str, list[str]]:
    """Queue name -> names of the live workers serving it."""
    out: dict[str, list[str]] = {}
    for row in rows:
        if is_live(row, max_age):
            for queue in row.queues:
                out.setdefault(queue, []).append(row.name)
    return out
