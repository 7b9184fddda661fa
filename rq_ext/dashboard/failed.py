"""Failed jobs: listed per queue with a class derived from the reason, filtered, found by id,
requeued with their priority (``rq_ext.failures.requeue_failed``) or deleted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis import Redis

from rq_ext import contract
from rq_ext.dashboard.jobs import summarize
from rq_ext.failures import requeue_failed
from rq_ext.maintenance import known_queue_names

#: Most failed jobs read per queue for one listing or filter.
SCAN_LIMIT = 5000
PAGE_SIZE = 50


def failure_class(reason: str) -> str:
    """retryable exhausted / malformed / permanent, from the reason the worker wrote."""
    lowered = reason.lower()
    if "retries exhausted" in lowered or "abandoned" in lowered:
        return "retryable exhausted"
    if "malformed" in lowered or "not allowed" in lowered or "no origin" in lowered:
        return "malformed"
    return "permanent"


@dataclass
class FailedFilter:
    queue: str = ""
    reason: str = ""
    channel: str = ""
    gateway: str = ""
    job_id: str = ""
    min_age_s: float | None = None
    max_age_s: float | None = None

    @classmethod
    def from_mapping(cls, data: Any) -> FailedFilter:
        def number(name: str) -> float | None:
            raw = data.get(name)
            try:
                return float(raw) if raw not in (None, "") else None
            except (TypeError, ValueError):
                return None

        return cls(
            queue=str(data.get("queue") or "").strip(),
            reason=str(data.get("reason") or "").strip(),
            channel=str(data.get("channel") or "").strip(),
            gateway=str(data.get("gateway") or "").strip(),
            job_id=str(data.get("job_id") or "").strip(),
            min_age_s=number("min_age_s"),
            max_age_s=number("max_age_s"),
        )

    def matches(self, row: dict[str, Any]) -> bool:
        age = row.get("age_s")
        checks = [
            not self.reason or self.reason.lower() in row["reason"].lower(),
            not self.channel or self.channel == row["channel"],
            not self.gateway or self.gateway.lower() in row["gateway"].lower(),
            self.min_age_s is None or (age is not None and age >= self.min_age_s),
            self.max_age_s is None or (age is not None and age <= self.max_age_s),
        ]
        return all(checks)


def _queues(connection: Redis, wanted: str) -> list[str]:
    return [wanted] if wanted else known_queue_names(connection)


def _row(connection: Redis, queue: str, job_id: str, serializer: Any, now: float) -> dict[str, Any]:
    row = summarize(connection, job_id, serializer, now).as_dict()
    ended = connection.hget(contract.job_key(job_id), "ended_at")
    if ended:
        from rq_ext.job import parse_date

        try:
            row["age_s"] = round(now - parse_date(ended).timestamp(), 1)
        except ValueError:
            pass
    row.update(queue=queue, failure_class=failure_class(row["reason"]))
    return row


def matching(connection: Redis, filt: FailedFilter, serializer: Any) -> list[dict[str, Any]]:
    """Every failed job matching ``filt`` (newest failure first within each queue)."""
    now = time.time()
    rows = []
    for queue in _queues(connection, filt.queue):
        key = contract.FAILED_PREFIX + queue
        if filt.job_id:
            ids = [filt.job_id] if connection.zscore(key, filt.job_id) is not None else []
        else:
            ids = [contract.text(i) for i in connection.zrevrange(key, 0, SCAN_LIMIT - 1)]
        for job_id in ids:
            row = _row(connection, queue, job_id, serializer, now)
            if filt.matches(row):
                rows.append(row)
    return rows


def _page_only(connection: Redis, filt: FailedFilter, serializer: Any, page: int, size: int) -> tuple[int, list[Any]]:
    """Without a filter on the jobs' contents, only the page's jobs are read."""
    now = time.time()
    ids: list[tuple[str, str]] = []
    for queue in _queues(connection, filt.queue):
        key = contract.FAILED_PREFIX + queue
        ids += [(queue, contract.text(i)) for i in connection.zrevrange(key, 0, SCAN_LIMIT - 1)]
    chosen = ids[page * size : (page + 1) * size]
    return len(ids), [_row(connection, queue, job_id, serializer, now) for queue, job_id in chosen]


def listing(
    connection: Redis, filt: FailedFilter, serializer: Any, page: int = 0, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """A page of the failed jobs matching ``filt``, and the failed count of every queue."""
    content = filt.reason or filt.channel or filt.gateway or filt.job_id
    if content or filt.min_age_s is not None or filt.max_age_s is not None:
        rows = matching(connection, filt, serializer)
        total, jobs = len(rows), rows[page * size : (page + 1) * size]
    else:
        total, jobs = _page_only(connection, filt, serializer, page, size)
    counts = {q: connection.zcard(contract.FAILED_PREFIX + q) for q in known_queue_names(connection)}
    return {"total": total, "page": page, "size": size, "per_queue": counts, "jobs": jobs}


def _targets(connection: Redis, body: dict[str, Any], serializer: Any) -> dict[str, list[str]]:
    """Queue -> job ids an action names: ``jobs`` ([{queue, id}]) or a ``filter``."""
    if body.get("jobs"):
        out: dict[str, list[str]] = {}
        for item in body["jobs"]:
            if isinstance(item, dict) and item.get("queue") and item.get("id"):
                out.setdefault(str(item["queue"]), []).append(str(item["id"]))
        return out
    if isinstance(body.get("filter"), dict):
        out = {}
        for row in matching(connection, FailedFilter.from_mapping(body["filter"]), serializer):
            out.setdefault(row["queue"], []).append(row["id"])
        return out
    return {}


def requeue(connection: Redis, body: dict[str, Any], serializer: Any) -> int:
    """Put the named or matching failed jobs back into their queue with their priority."""
    return sum(requeue_failed(connection, queue, ids) for queue, ids in _targets(connection, body, serializer).items())


def delete(connection: Redis, body: dict[str, Any], serializer: Any) -> int:
    """Delete the named or matching failed jobs: out of the registry, hash and result gone."""
    deleted = 0
    for queue, ids in _targets(connection, body, serializer).items():
        for job_id in ids:
            if connection.zrem(contract.FAILED_PREFIX + queue, job_id):
                connection.delete(contract.job_key(job_id), contract.RESULTS_PREFIX + job_id)
                deleted += 1
    return deleted
