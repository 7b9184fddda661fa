"""The daily maintenance pass, run by one worker at a time under a Redis lock.

Every ``MAINTENANCE_INTERVAL`` seconds (default 24 h): clean the registries of every known
queue, delete failed jobs older than ``FAILED_JOB_TTL`` (hash, results and registry entry; the
legacy ``rq:queue:failed`` list too), and delete jobs handed to ``/retryTask/`` that nothing
re-enqueued within ``FAILED_JOB_TTL``.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

from redis import Redis
from rq.registry import FailedJobRegistry, clean_registries
from rq.utils import str_to_date
from rq.worker_registration import clean_worker_registry

from config import Settings, get_settings
from rq_ext import contract
from rq_ext.queue import FusionQueue, known_queue_names
from rq_ext.recovery import recover_abandoned

log = logging.getLogger(__name__)


def _ended_at(connection: Redis, job_id: str) -> datetime | None:
    raw = connection.hget(contract.job_key(job_id), "ended_at")
    try:
        return str_to_date(raw) if raw else None
    except ValueError:
        return None


def _delete_job(connection: Redis, job_id: str) -> None:
    connection.delete(contract.job_key(job_id), contract.RESULTS_PREFIX + job_id, contract.EXECUTIONS_PREFIX + job_id)


def _is_old(connection: Redis, job_id: str, cutoff: float) -> bool:
    """A job whose hash is gone, or that ended before ``cutoff``."""
    if not connection.exists(contract.job_key(job_id)):
        return True
    ended = _ended_at(connection, job_id)
    return ended is not None and ended.timestamp() < cutoff


def delete_old_failed(connection: Redis, queue_name: str, cutoff: float) -> int:
    registry = FailedJobRegistry(queue_name, connection=connection)
    deleted = 0
    for raw in connection.zrange(registry.key, 0, -1):
        job_id = contract.text(raw)
        if _is_old(connection, job_id, cutoff):
            _delete_job(connection, job_id)
            connection.zrem(registry.key, job_id)
            deleted += 1
    return deleted


def delete_old_legacy_failed(connection: Redis, cutoff: float) -> int:
    deleted = 0
    for raw in connection.lrange(contract.LEGACY_FAILED_QUEUE, 0, -1):
        job_id = contract.text(raw)
        if _is_old(connection, job_id, cutoff):
            _delete_job(connection, job_id)
            connection.lrem(contract.LEGACY_FAILED_QUEUE, 0, job_id)
            deleted += 1
    return deleted


def delete_stale_retries(connection: Redis, cutoff: float) -> int:
    """Jobs handed to /retryTask/ before ``cutoff`` and never taken again."""
    deleted = 0
    for raw in connection.zrangebyscore(contract.AWAITING_RETRY, "-inf", cutoff):
        job_id = contract.text(raw)
        status = contract.text(connection.hget(contract.job_key(job_id), "status"))
        if status in ("", "scheduled") and connection.zscore(contract.CLAIMS, job_id) is None:
            _delete_job(connection, job_id)
            deleted += 1
        connection.zrem(contract.AWAITING_RETRY, job_id)
    return deleted


def run_maintenance(connection: Redis, settings: Settings | None = None) -> dict[str, int]:
    """One maintenance pass over every known queue; returns what it removed."""
    settings = settings or get_settings()
    recover_abandoned(connection, settings)  # before rq's started-registry cleanup can fail live jobs
    cutoff = time.time() - settings.FAILED_JOB_TTL
    removed = {"failed": 0, "legacy_failed": 0, "stale_retries": 0}
    for name in known_queue_names(connection, settings):
        queue = FusionQueue.configured(settings)(name, connection=connection)
        clean_registries(queue)
        clean_worker_registry(queue)
        removed["failed"] += delete_old_failed(connection, name, cutoff)
    removed["legacy_failed"] = delete_old_legacy_failed(connection, cutoff)
    removed["stale_retries"] = delete_stale_retries(connection, cutoff)
    log.info("maintenance done: %s", removed)
    return removed


def run_if_due(connection: Redis, settings: Settings | None = None) -> bool:
    """Run the pass if ``MAINTENANCE_INTERVAL`` has passed since the last one, under the lock."""
    settings = settings or get_settings()
    interval = settings.MAINTENANCE_INTERVAL
    last = connection.get(contract.MAINTENANCE_LAST)
    if last is not None and time.time() - float(last) < interval:
        return False
    token = uuid.uuid4().hex
    if not connection.set(contract.MAINTENANCE_LOCK, token, nx=True, ex=3600):
        return False
    try:
        last = connection.get(contract.MAINTENANCE_LAST)
        if last is not None and time.time() - float(last) < interval:
            return False
        run_maintenance(connection, settings)
        connection.set(contract.MAINTENANCE_LAST, time.time())
        return True
    finally:
        if contract.text(connection.get(contract.MAINTENANCE_LOCK)) == token:
            connection.delete(contract.MAINTENANCE_LOCK)
