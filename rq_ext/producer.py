"""The producer API: writes a job exactly as the platform's server does (see docs/contract.md).

1. the job hash as ``rq.Job.create(func, args=[task])`` with rq's pickle serializer writes it, plus
   ``retryCount``, ``success_task_handler``, ``failed_task_handler`` and ``priority``;
2. the queue's push rule (:data:`rq_ext.scripts.PUSH_FN`: ``ZADD rq:queue:<name> <priority>
   <id>``, ``RPUSH`` for ``scheduler``, ``SADD rq:queues``, a wake-up token), or for a delayed job
   ``ZADD rq:queue:schedulerSet <due> <id>``.
"""

from __future__ import annotations

import time
from typing import Any, cast

from redis import Redis
from rq.job import JobStatus
from rq.utils import now

from config import get_settings
from rq_ext import contract, scripts
from rq_ext.connection import serializer_from_settings
from rq_ext.job import FusionJob


def enqueue(
    queue: str,
    func: Any,
    task: Any,
    priority: float = 0,
    delay: float | None = None,
    success_task_handler: str | None = None,
    failed_task_handler: str | None = None,
    job_id: str | None = None,
    *,
    connection: Redis,
    timeout: int | None = None,
    description: str | None = None,
    serializer: Any = None,
) -> FusionJob:
    """Write one job for ``queue``; with ``delay`` (seconds) it is due later via ``schedulerSet``."""
    job = cast(
        FusionJob,
        FusionJob.create(
            func,
            args=[task],
            connection=connection,
            id=job_id,
            origin=queue,
            timeout=timeout,
            description=description or describe(func, task),
            status=JobStatus.SCHEDULED if delay else JobStatus.QUEUED,
            serializer=serializer or serializer_from_settings(get_settings()),
        ),
    )
    job.enqueued_at = now()
    extras: dict[Any, Any] = {
        contract.RETRY_COUNT: 0,
        contract.SUCCESS_HANDLER: success_task_handler or "",
        contract.FAILED_HANDLER: failed_task_handler or "",
        contract.PRIORITY: priority,
    }
    with connection.pipeline() as pipe:
        job.save(pipeline=pipe)
        pipe.hset(job.key, mapping=extras)
        if delay:
            pipe.zadd(contract.SCHEDULER_SET, {job.id: time.time() + delay})
            pipe.sadd(contract.QUEUES_SET, contract.queue_key(queue))
        else:
            scripts.push(connection, queue, job.id, client=pipe)
        pipe.execute()
    job.retry_count, job.priority = 0, float(priority)
    job.success_task_handler, job.failed_task_handler = success_task_handler or "", failed_task_handler or ""
    return job


def describe(func: Any, task: Any) -> str:
    """A job description without the payload (rq's default would copy it, patient data and
    credentials included, into the hash and every dashboard)."""
    name = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    payload = task.get("payload") if isinstance(task, dict) else None
    channel = payload.get("task") if isinstance(payload, dict) else None
    reference = task.get("reference") if isinstance(task, dict) else None
    details = ", ".join(f"{k}={v}" for k, v in (("channel", channel), ("reference", reference)) if v is not None)
    return f"{name}({details})"
