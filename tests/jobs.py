"""Job functions used by the tests (allowed through JOB_FUNCTION_ALLOWLIST in the test settings)."""

from __future__ import annotations

import time
from typing import Any

from rq import get_current_job

from errors import ProviderUnavailable


def _redis() -> Any:
    job = get_current_job()
    assert job is not None
    return job.connection


def record(task: dict[str, Any]) -> dict[str, Any]:
    """Count the run and log its order: ``runs:<job id>`` and the list ``order``."""
    job = get_current_job()
    assert job is not None
    conn = _redis()
    runs = conn.incr(f"runs:{job.id}")
    conn.rpush("order", task.get("name", job.id))
    if task.get("sleep"):
        time.sleep(float(task["sleep"]))
    if task.get("sleep_first") and runs == 1:
        time.sleep(float(task["sleep_first"]))
    return {"provider_id": f"msg-{task.get('name', '')}"}


def transient(task: dict[str, Any]) -> None:
    raise ProviderUnavailable("provider answered HTTP 503")


def crash(task: dict[str, Any]) -> None:
    raise RuntimeError("unexpected failure")


def deferred(task: dict[str, Any]) -> None:
    from errors import Deferred

    raise Deferred("rate limit of account demo reached", delay=30)


def span(task: dict[str, Any]) -> None:
    """Record when the job ran (start, end), sleeping in short steps so a timeout can cut it."""
    job = get_current_job()
    assert job is not None
    conn = _redis()
    start = time.time()
    conn.incr(f"runs:{job.id}")
    while time.time() - start < float(task.get("seconds", 0.2)):
        time.sleep(0.02)
    conn.rpush("spans", f"{start}:{time.time()}")


def permanent_with_details(task: dict[str, Any]) -> None:
    from errors import InvalidRecipient

    error = InvalidRecipient("every token was refused")
    error.details = {"invalid_tokens": '["tok-1"]'}
    raise error


def noop(task: dict[str, Any]) -> None:
    """Does nothing: the cost of a job is the worker's own."""


def send_then_sleep(task: dict[str, Any]) -> Any:
    """The webhook send, then (first run only) a pause: a kill in the pause lands after the
    provider accepted and before the outcome is written."""
    from tasks.webhooks import send_webhook

    job = get_current_job()
    assert job is not None
    runs = _redis().incr(f"runs:{job.id}")
    result = send_webhook(task)
    if runs == 1:
        time.sleep(float(task.get("sleep_after", 30)))
    return result


class BrokenHook:
    """A job middleware whose hooks raise: the job's outcome must not change."""

    def before_job(self, job: Any, queue_name: str) -> None:
        raise RuntimeError("hook broken before")

    def after_job(self, job: Any, queue_name: str, outcome: str, duration: float) -> None:
        raise RuntimeError("hook broken after")


class SlowAfterHook:
    """A job middleware whose after-job hook marks ``after_job:<job id>`` and then takes
    2 s: a SIGTERM meanwhile reaches a worker that is no longer busy and is
    inside an ``except Exception`` (the hooks')."""

    def before_job(self, job: Any, queue_name: str) -> None:
        pass

    def after_job(self, job: Any, queue_name: str, outcome: str, duration: float) -> None:
        job.connection.set(f"after_job:{job.id}", outcome)
        time.sleep(2.0)


def _plan_at_once(task: Any, job: Any) -> Any:
    """A plan with no effect: it returns at its first step (the event-loop class ends such a job
    where it starts it, with no task)."""
    if task.get("raise"):
        raise InvalidPlanInput("field 'raise' asks this plan to fail")
    return task.get("value")
    yield  # pragma: no cover - makes this a generator


class InvalidPlanInput(ValueError):
    pass


from rq_ext import sansio  # noqa: E402 - below the plan it marks, for the module's readers


@sansio.plan(_plan_at_once)
def at_once(task: dict[str, Any]) -> Any:
    """The blocking form of :func:`_plan_at_once` (other worker classes)."""
    return sansio.run(_plan_at_once(task, None))
