"""The dashboard's read side: queues, waiting jobs, delayed, awaiting retry, in flight."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis

from rq_ext import contract, doctor, timeline
from rq_ext.dashboard.jobs import summarize
from rq_ext.job import parse_date
from rq_ext.maintenance import known_queue_names
from rq_ext.queue import FusionQueue
from rq_ext.registrations import EXTRA_FIELDS, is_live, serving, worker_rows
from rq_ext.stats import queue_stats

PAGE_SIZE = 50


def _spread(connection: Redis, key: str, kind: str, depth: int) -> dict[str, float | None]:
    if kind != "zset" or not depth:
        return {"highest": None, "median": None, "lowest": None}
    with connection.pipeline(transaction=False) as pipe:
        pipe.zrevrange(key, 0, 0, withscores=True)
        pipe.zrange(key, depth // 2, depth // 2, withscores=True)
        pipe.zrange(key, 0, 0, withscores=True)
        top, mid, low = pipe.execute()
    return {
        "highest": top[0][1] if top else None,
        "median": mid[0][1] if mid else None,
        "lowest": low[0][1] if low else None,
    }


def queue_rows(connection: Redis, worker_max_age: float, now: float | None = None) -> list[dict[str, Any]]:
    """One row per known queue: the figures of ``GET /api/queues``."""
    now = time.time() if now is None else now
    served = serving(worker_rows(connection, now), worker_max_age)
    hour = timeline.totals(connection, 60, now)
    rows = []
    for name in known_queue_names(connection):
        key = contract.queue_key(name)
        kind = contract.text(connection.type(key))
        stats = queue_stats(connection, name)
        expected = "list" if name == contract.SCHEDULER_QUEUE else "zset"
        rows.append(
            {
                "name": name,
                "type": kind,
                "type_ok": kind in ("none", expected),
                "depth": stats.depth,
                "priority": _spread(connection, key, kind, stats.depth),
                "oldest_age_s": stats.oldest_age,
                "in_flight": stats.started,
                "failed": stats.failed,
                "workers": len(served.get(name, [])),
                "worker_names": served.get(name, []),
                "finished_1h": hour.get(name, {}).get("finished", 0),
                "failed_1h": hour.get(name, {}).get("failed", 0),
            }
        )
    return rows


def warnings(connection: Redis, rows: list[dict[str, Any]], orphans: list[str], worker_max_age: float) -> list[str]:
    """The overview's red lines (``orphans``: described orphans, computed less often)."""
    unserved = [r for r in rows if not r["workers"]]
    out = [
        f"queue {r['name']}: {r['depth']} job(s) waiting and no live worker serves it" for r in unserved if r["depth"]
    ]
    idle = [r["name"] for r in unserved if not r["depth"]]
    out += [f"no live worker serves {', '.join(idle)} (empty now)"] if idle else []
    out += [f.detail for f in doctor.check_queue_types(connection, [r["name"] for r in rows])]
    out += [
        f"{key}: jobs outside any queue (rq's compact); run doctor --fix" for key in doctor.leftover_keys(connection)
    ]
    out += [f"orphaned {text}" for text in orphans]
    for row in worker_rows(connection):
        if not is_live(row, worker_max_age):
            out.append(f"stale worker {row.name} (heartbeat {row.heartbeat_age_s or '-'} s ago)")
    return out


def totals(connection: Redis) -> dict[str, int]:
    """The overview's counts beside the queues: delayed, in hand, awaiting retry, outbox."""
    with connection.pipeline(transaction=False) as pipe:
        for key in (contract.SCHEDULER_SET, contract.CLAIMS, contract.AWAITING_RETRY, contract.OUTBOX_DUE):
            pipe.zcard(key)
        replies = pipe.execute(raise_on_error=False)
    names = ("delayed", "in_hand", "awaiting_retry", "outbox_pending")
    return {name: n if isinstance(n, int) else 0 for name, n in zip(names, replies, strict=True)}


def waiting_jobs(connection: Redis, name: str, serializer: Any, page: int = 0, size: int = PAGE_SIZE) -> dict[str, Any]:
    """A page of ``name``'s waiting jobs in claim order (highest priority first)."""
    queue = FusionQueue(name, connection=connection)
    ids = queue.get_job_ids(page * size, size)
    return {
        "queue": name,
        "total": queue.count,
        "page": page,
        "size": size,
        "jobs": [summarize(connection, i, serializer).as_dict() for i in ids],
    }


def _scored(connection: Redis, key: str, page: int, size: int) -> list[tuple[str, float]]:
    raw: list[Any] = connection.zrange(key, page * size, (page + 1) * size - 1, withscores=True)
    return [(contract.text(i), float(s)) for i, s in raw]


def delayed(connection: Redis, serializer: Any, page: int = 0, size: int = PAGE_SIZE) -> dict[str, Any]:
    """``schedulerSet``: due time and target queue, soonest first."""
    now = time.time()
    jobs = []
    for job_id, due in _scored(connection, contract.SCHEDULER_SET, page, size):
        row = summarize(connection, job_id, serializer, now).as_dict()
        row.update(due=due, due_in_s=round(due - now, 1), target=row["origin"] or "-")
        jobs.append(row)
    return {"total": connection.zcard(contract.SCHEDULER_SET), "page": page, "size": size, "jobs": jobs}


def awaiting_retry(connection: Redis, serializer: Any, page: int = 0, size: int = PAGE_SIZE) -> dict[str, Any]:
    """Jobs handed to the server's ``/retryTask/``, oldest first, with their age."""
    now = time.time()
    jobs = []
    for job_id, handed in _scored(connection, contract.AWAITING_RETRY, page, size):
        row = summarize(connection, job_id, serializer, now).as_dict()
        row.update(handed=handed, waiting_s=round(now - handed, 1))
        jobs.append(row)
    return {"total": connection.zcard(contract.AWAITING_RETRY), "page": page, "size": size, "jobs": jobs}


def _started(raw: Any, now: float) -> tuple[float | None, float | None]:
    try:
        stamp = parse_date(raw).timestamp() if raw else None
    except ValueError:
        return None, None
    return stamp, (round(now - stamp, 1) if stamp else None)


def in_flight(connection: Redis, serializer: Any) -> dict[str, Any]:
    """Every claim in ``fusion:claims``, grouped by the worker that holds it."""
    now = time.time()
    claims = _scored(connection, contract.CLAIMS, 0, 1000)
    by_worker: dict[str, list[dict[str, Any]]] = {}
    for job_id, expiry in claims:
        worker, started = connection.hmget(contract.job_key(job_id), ["worker_name", "started_at"])
        row = summarize(connection, job_id, serializer, now).as_dict()
        stamp, running = _started(started, now)
        row.update(started=stamp, running_s=running, lease_expiry=expiry, lease_left_s=round(expiry - now, 1))
        by_worker.setdefault(contract.text(worker) or "(not started)", []).append(row)
    workers = [{"worker": name, "jobs": jobs} for name, jobs in sorted(by_worker.items())]
    return {"total": connection.zcard(contract.CLAIMS), "workers": workers}


def workers_page(connection: Redis, worker_max_age: float) -> dict[str, Any]:
    rows = worker_rows(connection)
    out = []
    for row in rows:
        item = row.as_dict()
        item["live"] = is_live(row, worker_max_age)
        out.append(item)
    missing = [f for f in EXTRA_FIELDS if all(item[f] == "-" for item in out)] if out else list(EXTRA_FIELDS)
    return {"workers": out, "missing_fields": missing}
