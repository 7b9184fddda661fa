"""Failing a job that the worker cannot load or run: failure callback, then the failed registry.

Used for malformed job hashes, delayed jobs with no origin, and jobs abandoned too often:
cases where there is no loadable Job object to hand to rq's own failure path.
"""

from __future__ import annotations

import logging

from redis import Redis
from rq.registry import FailedJobRegistry
from rq.utils import current_timestamp, now, utcformat

from config import get_settings
from rq_ext import callbacks, contract

log = logging.getLogger(__name__)


def report_final_failure(job_id: str, queue_name: str, reason: str) -> None:
    """Tell Sentry (when configured) about a job that failed without an exception to capture."""
    from wrappers import sentry

    sentry.capture_failure(reason, job_id=job_id, queue=queue_name)


def fail_job_id(connection: Redis, job_id: str, queue_name: str, reason: str) -> None:
    """Fail the job ``job_id`` of ``queue_name`` with ``reason``, reading only raw hash fields."""
    job_key = contract.job_key(job_id)
    handler, description = connection.hmget(job_key, [contract.FAILED_HANDLER, "description"])
    log.warning("job %s failed: %s", job_id, reason)
    callbacks.post(
        contract.text(handler),
        callbacks.failure_fields(job_id, contract.text(description), reason),
        "failure",
        connection,
    )
    report_final_failure(job_id, queue_name, reason)
    registry = FailedJobRegistry(queue_name or "default", connection=connection)
    with connection.pipeline() as pipe:
        pipe.zrem(contract.CLAIMS, job_id)
        pipe.zadd(registry.key, {job_id: current_timestamp() + get_settings().FAILED_JOB_TTL})
        pipe.hset(job_key, mapping={"status": "failed", "exc_info": reason, "ended_at": utcformat(now())})
        pipe.execute()


def requeue_failed(connection: Redis, queue_name: str, job_ids: list[str] | None = None) -> int:
    """Put failed jobs of ``queue_name`` (all, or ``job_ids``) back into it with their priority."""
    from rq_ext.queue import FusionQueue

    registry = FailedJobRegistry(queue_name, connection=connection)
    queue = FusionQueue(queue_name, connection=connection)
    wanted = job_ids if job_ids is not None else [contract.text(i) for i in connection.zrange(registry.key, 0, -1)]
    moved = 0
    for job_id in wanted:
        if not connection.zrem(registry.key, job_id):
            continue
        with connection.pipeline() as pipe:
            pipe.hset(
                contract.job_key(job_id), mapping={"status": "queued", contract.RECOVERIES: 0, contract.RETRY_COUNT: 0}
            )
            queue.push_job_id(job_id, pipeline=pipe)
            pipe.execute()
        moved += 1
    return moved
