"""Job functions of the benchmark (``JOB_FUNCTION_ALLOWLIST`` must include ``bench.``).

Each takes the one ``task`` argument every Fusion job has.
"""

from __future__ import annotations

import time
from typing import Any

from rq import get_current_job

from rq_ext import sansio

#: Hash: job id -> how many times the job ran (``counted``).
RUNS_KEY = "bench:runs"
#: Hash: job id -> ``time.time()`` when the job started (``started``).
STARTED_KEY = "bench:started"


@sansio.plan(lambda task, job: sansio.nothing())
def noop(task: Any) -> None:
    """Does nothing: what is left is the worker's own cost per job."""


def counted(task: Any) -> None:
    """Counts its runs, so a test can check every job ran exactly once."""
    job = get_current_job()
    if job is not None:
        job.connection.hincrby(RUNS_KEY, job.id, 1)


def started(task: Any) -> None:
    """Records when it started, for the pickup latency (enqueue to start)."""
    at = time.time()
    job = get_current_job()
    if job is not None:
        job.connection.hset(STARTED_KEY, job.id, repr(at))


def sleep(task: Any) -> None:
    """Sleeps ``task["seconds"]``: an I/O wait without any network."""
    time.sleep(float(task.get("seconds", 0.05)) if isinstance(task, dict) else 0.05)
