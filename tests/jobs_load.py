"""Job functions of the recovery-time and soak tests (allowed by ``JOBS_LOAD_ALLOWLIST``)."""

from __future__ import annotations

import time
from typing import Any

from rq import get_current_job

#: The test settings' allowlist plus this module (``tests.jobs.`` does not cover ``tests.jobs_load``).
JOBS_LOAD_ALLOWLIST = "tasks.,tests.jobs.,tests.jobs_load."


def _count_run() -> tuple[Any, int]:
    """The current job and how many times it has started (``runs:<job id>``, this run included)."""
    job = get_current_job()
    assert job is not None
    return job, int(job.connection.incr(f"runs:{job.id}"))


def sleepy(task: dict[str, Any]) -> None:
    """Sleep ``seconds`` in short steps on the first run, ``then`` seconds on a later one (a
    recovered job finishes quickly); ``done:<job id>`` counts the runs that got to the end."""
    job, runs = _count_run()
    seconds = float(task.get("seconds", 30) if runs == 1 else task.get("then", task.get("seconds", 30)))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    job.connection.incr(f"done:{job.id}")


def busy(task: dict[str, Any]) -> None:
    """Spin the CPU for ``seconds`` (pure Python: holds the GIL but for the switch interval)."""
    job, _ = _count_run()
    deadline = time.monotonic() + float(task.get("seconds", 15))
    spins = 0
    while time.monotonic() < deadline:
        for _ in range(10_000):
            spins += 1
    job.connection.incr(f"done:{job.id}")


def trivial(task: dict[str, Any]) -> None:
    """Does nothing: a soak measures the worker's own cost per job."""


def heap_snapshot(task: dict[str, Any]) -> None:
    """Dump the worker process's ``tracemalloc`` snapshot to ``task["path"]`` (the worker must run
    with ``PYTHONTRACEMALLOC``); an in-process worker class runs it on its own heap."""
    import gc
    import tracemalloc

    job, _ = _count_run()
    if tracemalloc.is_tracing():
        gc.collect()
        tracemalloc.take_snapshot().dump(task["path"])
    job.connection.incr(f"done:{job.id}")
