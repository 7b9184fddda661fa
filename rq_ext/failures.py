"""Failing a job that the worker cannot load or run, in Redis only (no network I/O).

Used for malformed job hashes (at the claim), delayed jobs that cannot be routed, and jobs
abandoned too often: cases where there is no loadable job to hand to the outcome path. The
failed state, the failed registry entry, the claim's release and the failure callback's outbox
entry are written in one transaction; the callback is delivered by the outbox's sender.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from rq.utils import current_timestamp, now, utcformat

from config import get_settings
from rq_ext import callbacks, contract, outbox, scripts

log = logging.getLogger(__name__)


def fail_job_id(connection: Redis, job_id: str, queue_name: str, reason: str, wip_entry: str | None = None) -> None:
    """Fail ``job_id`` of ``queue_name`` with ``reason`` (read only raw hash fields)."""
    job_key = contract.job_key(job_id)
    handler, retry_count = connection.hmget(job_key, [contract.FAILED_HANDLER, contract.RETRY_COUNT])
    log.error("job %s failed: %s", job_id, reason)
    queue_name = queue_name or "default"
    with connection.pipeline() as tx:
        tx.zrem(contract.CLAIMS, job_id)
        if wip_entry:
            tx.zrem(contract.WIP_PREFIX + queue_name, wip_entry)
        tx.zadd(contract.FAILED_PREFIX + queue_name, {job_id: current_timestamp() + get_settings().FAILED_JOB_TTL})
        tx.hset(job_key, mapping={"status": "failed", "exc_info": reason, "ended_at": utcformat(now())})
        url = contract.text(handler)
        if url:
            fields = callbacks.failure_fields(job_id, f"job {job_id}", reason)
            entry_id = outbox.entry_id(job_id, "failed", _int(retry_count))
            outbox.stage(tx, [outbox.Entry(entry_id, outbox.CALLBACK, job_id, "failed", url, fields)])
        tx.execute()


def _int(raw: Any) -> int:
    try:
        return int(float(contract.text(raw) or 0))
    except (TypeError, ValueError, OverflowError):
        return 0


def requeue_failed(connection: Redis, queue_name: str, job_ids: list[str] | None = None) -> int:
    """Put failed jobs of ``queue_name`` (all, or ``job_ids``) back into it with their priority."""
    registry = contract.FAILED_PREFIX + queue_name
    wanted = job_ids if job_ids is not None else [contract.text(i) for i in connection.zrange(registry, 0, -1)]
    moved = 0
    for job_id in wanted:
        if not connection.zrem(registry, job_id):
            continue
        with connection.pipeline() as pipe:
            mapping: dict[Any, Any] = {"status": "queued", contract.RECOVERIES: 0, contract.RETRY_COUNT: 0}
            mapping["origin"] = queue_name
            pipe.hset(contract.job_key(job_id), mapping=mapping)
            scripts.push(connection, queue_name, job_id, client=pipe)
            pipe.execute()
        moved += 1
    return moved
