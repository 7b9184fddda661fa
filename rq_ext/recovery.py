"""Abandoned-job recovery: claims whose lease ran out (their worker died) go back to their queue.

Any running worker does this every ``RECOVERY_INTERVAL`` seconds; a live worker renews its
leases every ``CLAIM_LEASE / 4``, so a dead worker's jobs are back in their queue at most
``CLAIM_LEASE + RECOVERY_INTERVAL`` (12 s by default) after the death. A job abandoned more than
``MAX_RECOVERIES`` times goes to the failed registry instead. A worker that starts under the
name of a dead one puts that one's claims back at once (:func:`release_owned`).
"""

from __future__ import annotations

import logging
import os
import socket
import time

from redis import Redis
from rq.utils import str_to_date

from config import Settings, get_settings
from rq_ext import contract, metrics, scripts
from rq_ext.failures import fail_job_id

log = logging.getLogger(__name__)

RECOVER_BATCH = 200


def recover_abandoned(connection: Redis, settings: Settings | None = None) -> int:
    """Requeue expired claims; fail those recovered too often. Returns how many were requeued."""
    if not connection.zcount(contract.CLAIMS, "-inf", time.time()):
        return 0
    settings = settings or get_settings()
    requeued, exhausted, unroutable = scripts.run(
        connection, scripts.RECOVER, [contract.CLAIMS], [time.time(), RECOVER_BATCH, settings.MAX_RECOVERIES]
    )
    metrics.RECOVERED.inc(len(requeued))
    for job_id in requeued:
        log.warning("recovered abandoned job %s: back in its queue", contract.text(job_id))
    for raw_id in exhausted:
        reason = f"job abandoned by a dead worker more than {settings.MAX_RECOVERIES} times"
        _fail(connection, contract.text(raw_id), reason)
    for raw_id in unroutable:
        _fail(connection, contract.text(raw_id), "abandoned job cannot be put back: field 'origin' names no queue")
    return len(requeued)


def _fail(connection: Redis, job_id: str, reason: str) -> None:
    origin = contract.text(connection.hget(contract.job_key(job_id), "origin"))
    fail_job_id(connection, job_id, origin, reason)


def release(connection: Redis, job_id: str) -> bool:
    """Put a job in hand back into its queue now (a cold shutdown)."""
    return bool(scripts.run(connection, scripts.RELEASE, [contract.CLAIMS], [job_id]))


def release_owned(connection: Redis, worker_name: str, keep: list[str] | None = None) -> list[str]:
    """Put back every claim held under ``worker_name`` but those in ``keep``: its process is gone,
    or (``keep`` = the jobs in hand) a claim's reply was lost to a Redis outage."""
    released = scripts.run(connection, scripts.RELEASE_OWNED, [contract.CLAIMS], [worker_name, *(keep or [])])
    return [contract.text(i) for i in released or []]


def renew(connection: Redis, job_ids: list[str], settings: Settings | None = None) -> None:
    """Extend the lease of the claims in hand (only those still claimed, and never shortened),
    on Redis' clock."""
    if job_ids:
        lease = (settings or get_settings()).CLAIM_LEASE
        scripts.run(connection, scripts.RENEW, [contract.CLAIMS], [lease, *job_ids])


def namesake_is_stale(connection: Redis, worker_key: str, settings: Settings) -> bool:
    """Whether rq's registration at ``worker_key`` belongs to a process that is gone: not marked
    dead, and either on this host with a pid that no longer runs, or silent for a whole lease
    plus a heartbeat interval."""
    raw = connection.hmget(worker_key, ["death", "hostname", "pid", "last_heartbeat"])
    death, hostname, pid, beat = (contract.text(v) for v in raw)
    if death or not (hostname or pid or beat):
        return False
    if hostname == socket.gethostname() and pid.isdigit():
        # our own pid (a restarted container) cannot have registered yet: that one is gone
        return int(pid) == os.getpid() or not _pid_runs(int(pid))
    return _seconds_since(beat) > settings.CLAIM_LEASE + 10


def _pid_runs(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, killed but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def _seconds_since(stamp: str) -> float:
    try:
        return time.time() - str_to_date(stamp).timestamp()
    except (TypeError, ValueError):
        return 0.0
