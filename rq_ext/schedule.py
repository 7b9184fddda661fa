"""Delayed jobs: ``ZADD rq:queue:schedulerSet <due> <id>``; promotion into the origin queue.

A due job is checked before it leaves ``schedulerSet``: one whose hash names no queue (field
``origin``), or whose queue key holds another type, is failed with that reason, never dropped.
"""

from __future__ import annotations

import logging
import time

from redis import Redis

from rq_ext import contract, scripts
from rq_ext.failures import fail_job_id

log = logging.getLogger(__name__)

#: Most jobs one promotion moves (the rest wait for the next pass, a second later at most).
PROMOTE_BATCH = 500


def promote_due(connection: Redis, when: float | None = None) -> int:
    """Move every due job (up to a batch) into its origin queue with its priority."""
    moment = when or time.time()
    due = connection.zcount(contract.SCHEDULER_SET, "-inf", moment)
    if not due:
        return 0
    bad = scripts.run(connection, scripts.PROMOTE, [contract.SCHEDULER_SET], [moment, PROMOTE_BATCH]) or []
    for raw_id in bad:
        job_id = contract.text(raw_id)
        origin = contract.text(connection.hget(contract.job_key(job_id), "origin"))
        reason = (
            f"delayed job cannot be promoted: queue key {contract.queue_key(origin)!r} is not a priority queue"
            if origin
            else "delayed job cannot be promoted: field 'origin' names no queue"
        )
        fail_job_id(connection, job_id, origin or "schedulerSet", reason)
        connection.zrem(contract.SCHEDULER_SET, job_id)
    moved = min(due, PROMOTE_BATCH) - len(bad)
    if moved:
        log.debug("promoted %d due job(s) from schedulerSet", moved)
    return moved
