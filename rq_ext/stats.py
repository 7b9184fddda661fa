"""Queue figures for ``run_worker.py info``: depth, oldest job age, started, failed, workers."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from rq.utils import str_to_date
from rq.worker import Worker

from rq_ext import breakers, contract
from rq_ext.queue import known_queue_names

#: Members read to find the oldest job of a deep sorted-set queue.
OLDEST_SAMPLE = 1000


@dataclass
class QueueStats:
    name: str
    depth: int
    oldest_age: float | None
    started: int
    failed: int


def _oldest_age(connection: Redis, queue_key: str, kind: str) -> float | None:
    ids: list[Any] = (
        connection.lrange(queue_key, 0, 0) if kind == "list" else connection.zrange(queue_key, 0, OLDEST_SAMPLE - 1)
    )
    if not ids:
        return None
    with connection.pipeline() as pipe:
        for job_id in ids:
            pipe.hget(contract.job_key(contract.text(job_id)), "enqueued_at")
        stamps = [str_to_date(v).timestamp() for v in pipe.execute() if v]
    return round(time.time() - min(stamps), 1) if stamps else None


def queue_stats(connection: Redis, name: str) -> QueueStats:
    key = contract.queue_key(name)
    kind = contract.text(connection.type(key))
    depth = connection.llen(key) if kind == "list" else connection.zcard(key) if kind == "zset" else 0
    return QueueStats(
        name=name,
        depth=depth,
        oldest_age=_oldest_age(connection, key, kind) if depth else None,
        started=connection.zcard(contract.WIP_PREFIX + name),
        failed=connection.zcard(contract.FAILED_PREFIX + name),
    )


def snapshot(connection: Redis) -> dict[str, Any]:
    """Every known queue's figures, the delayed and in-hand counts, the live workers and the
    circuit breakers not closed."""
    workers = Worker.all(connection=connection)
    return {
        "queues": [asdict(queue_stats(connection, name)) for name in known_queue_names(connection)],
        "scheduled": connection.zcard(contract.SCHEDULER_SET),
        "claims": connection.zcard(contract.CLAIMS),
        "awaiting_retry": connection.zcard(contract.AWAITING_RETRY),
        "workers": [{"name": w.name, "state": w.get_state(), "queues": w.queue_names()} for w in workers],
        "breakers": [v.as_dict() for v in breakers.not_closed(breakers.read_all(connection))],
    }


def _paint(text: str, colour: str, on: bool) -> str:
    codes = {"red": "31", "yellow": "33", "green": "32", "bold": "1"}
    return f"\033[{codes[colour]}m{text}\033[0m" if on else text


def render(snap: dict[str, Any], colour: bool = False) -> str:
    """A table of a snapshot; ``colour`` paints waiting (yellow), old (red) and failed (red)."""
    lines = [_paint(f"{'queue':<14}{'depth':>8}{'oldest(s)':>11}{'started':>9}{'failed':>8}", "bold", colour)]
    for q in snap["queues"]:
        age = "-" if q["oldest_age"] is None else f"{q['oldest_age']:.0f}"
        depth = _paint(f"{q['depth']:>8}", "yellow", colour and q["depth"] > 0)
        age_text = _paint(f"{age:>11}", "red", colour and (q["oldest_age"] or 0) > 120)
        failed = _paint(f"{q['failed']:>8}", "red", colour and q["failed"] > 0)
        lines.append(f"{q['name']:<14}{depth}{age_text}{q['started']:>9}{failed}")
    lines.append(f"scheduled: {snap['scheduled']}  in hand: {snap['claims']}  awaiting retry: {snap['awaiting_retry']}")
    lines.append(f"{len(snap['workers'])} worker(s)")
    lines.extend(f"  {w['name']} {w['state']} {','.join(w['queues'])}" for w in snap["workers"])
    lines.extend(_paint(line, "red", colour) for line in breakers.render(snap.get("breakers", [])))
    return "\n".join(lines)


def fresh_workers(connection: Redis, max_age: float, queue_name: str | None = None) -> list[str]:
    """Names of live workers whose last heartbeat is within ``max_age`` seconds."""
    names = []
    for worker in Worker.all(connection=connection):
        beat = worker.last_heartbeat
        if beat is None or time.time() - beat.timestamp() > max_age:
            continue
        if queue_name and queue_name not in worker.queue_names():
            continue
        names.append(worker.name)
    return names
