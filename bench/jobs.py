"""Job functions of the benchmark (``JOB_FUNCTION_ALLOWLIST`` must include ``bench.``).

Each takes the one ``task`` argument every Fusion job has.
"""

from __future__ import annotations

import time
from typing import Any

from rq import get_current_job

from rq_ext import sansio
from rq_ext.sansio import Plan
from wrappers.transport import Request

#: Seconds from each request leaving a plan to its answer coming back into it (``timed_webhook``),
#: in this process: the provider's round trip as the worker sees it.
SEND_TIMES: list[float] = []

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


def timed(steps: Plan[Any]) -> Plan[Any]:
    """``steps``, each request's round trip appended to :data:`SEND_TIMES`."""
    try:
        effect = next(steps)
        while True:
            began = time.perf_counter() if isinstance(effect, Request) else None
            try:
                value = yield effect
            except Exception as exc:
                effect = steps.throw(exc)
                continue
            finally:
                if began is not None:
                    SEND_TIMES.append(time.perf_counter() - began)
            effect = steps.send(value)
    except StopIteration as stop:
        return stop.value


def plan_timed_webhook(task: Any, job: Any) -> Plan[Any]:
    from tasks.webhooks import plan_webhook

    return timed(plan_webhook(task, job))


@sansio.plan(plan_timed_webhook)
def timed_webhook(task: Any) -> Any:
    """``tasks.webhooks.send_webhook``, timing its request (``SEND_TIMES``)."""
    return sansio.run(plan_timed_webhook(task, get_current_job()))
