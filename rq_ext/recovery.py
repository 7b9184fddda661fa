"""Abandoned-job recovery: claims whose lease ran out (their worker died) go back to their queue.

Any running worker does this every ``RECOVERY_INTERVAL`` seconds. A job abandoned more than
``MAX_RECOVERIES`` times goes to the failed registry instead.
"""

from __future__ import annotations

import logging
import time

from redis import Redis

from config import get_settings
from rq_ext import contract, metrics, scripts
from rq_ext.failures import fail_job_id

log = logging.getLogger(__name__)

RECOVER_BATCH = 200


def recover_abandoned(connection: Redis) -> int:
    """Requeue expired claims; fail those recovered too often. Returns how many were requeued."""
    if not connection.zcount(contract.CLAIMS, "-inf", time.time()):
        return 0
    settings = get_settings()
    requeued, exhausted = scripts.run(
        connection,
        scripts.RECOVER,
        [contract.CLAIMS],
        [time.time(), RECOVER_BATCH, settings.MAX_RECOVERIES, contract.JOB_PREFIX, contract.QUEUE_PREFIX],
    )
    metrics.RECOVERED.inc(len(requeued))
    for job_id in requeued:
        log.warning("recovered abandoned job %s: back in its queue", contract.text(job_id))
    for raw_id in exhausted:
        job_id = contract.text(raw_id)
        origin = contract.text(connection.hget(contract.job_key(job_id), "origin"))
        reason = f"job abandoned by a dead worker more than {settings.MAX_RECOVERIES} times"
        fail_job_id(connection, job_id, origin, reason)
    return len(requeued)


def release(connection: Redis, job_id: str) -> bool:
    """Put a job in hand back into its queue now (a cold shutdown)."""
    released = scripts.run(
        connection, scripts.RELEASE, [contract.CLAIMS], [job_id, contract.JOB_PREFIX, contract.QUEUE_PREFIX]
    )
    return bool(released)


def renew(connection: Redis, job_ids: list[str]) -> None:
    """Extend the lease of the claims in hand (only those still claimed)."""
    if job_ids:
        expiry = time.time() + get_settings().CLAIM_LEASE
        connection.zadd(contract.CLAIMS, dict.fromkeys(job_ids, expiry), xx=True)
