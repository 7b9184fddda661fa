"""Delayed jobs: ``ZADD rq:queue:schedulerSet <due> <id>``; promotion into the origin queue."""

from __future__ import annotations

import logging
import time

from redis import Redis

from rq_ext import contract, scripts

log = logging.getLogger(__name__)

#: Most jobs one promotion moves (the rest wait for the next pass, a second later at most).
PROMOTE_BATCH = 500


def schedule_at(connection: Redis, job_id: str, due: float) -> None:
    """Run ``job_id`` in its origin queue at epoch second ``due``."""
    with connection.pipeline() as pipe:
        pipe.hset(contract.job_key(job_id), "status", "scheduled")
        pipe.zadd(contract.SCHEDULER_SET, {job_id: due})
        pipe.execute()


def promote_due(connection: Redis, when: float | None = None) -> int:
    """Move every due job (up to a batch) into its origin queue with its priority."""
    from rq_ext.failures import fail_job_id

    moved_before = connection.zcount(contract.SCHEDULER_SET, "-inf", when or time.time())
    if not moved_before:
        return 0
    bad = scripts.run(
        connection,
        scripts.PROMOTE,
        [contract.SCHEDULER_SET, contract.QUEUES_SET],
        [when or time.time(), PROMOTE_BATCH, contract.JOB_PREFIX, contract.QUEUE_PREFIX],
    )
    for job_id in bad or []:
        fail_job_id(connection, contract.text(job_id), "schedulerSet", "delayed job has no origin queue")
    moved = min(moved_before, PROMOTE_BATCH) - len(bad or [])
    if moved:
        log.debug("promoted %d due job(s) from schedulerSet", moved)
    return moved
