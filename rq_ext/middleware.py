"""Job middleware: hooks around every job, on every worker class (as dramatiq's middleware).

``before_job(job, queue_name)`` runs before the job function, in the order of the list;
``after_job(job, queue_name, outcome, duration)`` after its outcome is written, in reverse order.
A hook that raises is logged and never changes the job's outcome. Built-ins:

- :class:`LogContext`: every log line of the job carries its worker, queue, id, channel,
  gateway and attempt;
- :class:`Metrics`: the in-flight gauge;
- :class:`JobEvent`: one structured event per job outcome (:mod:`rq_ext.events`: the log line
  Elasticsearch ships, the job counters and histograms).

Channels add their own by name in ``JOB_MIDDLEWARE`` (``module:Class``), e.g. the webhook
channel's staging rule; the core never imports them.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
from typing import Any

from rq.job import Job

from rq_ext import contract, events, metrics
from wrappers import context

log = logging.getLogger(__name__)


class Middleware:
    """A hook around jobs; override either method."""

    def before_job(self, job: Job, queue_name: str) -> None:
        """Called before the job function runs."""

    def after_job(self, job: Job, queue_name: str, outcome: str, duration: float) -> None:
        """Called once the job's outcome is written (``finished``, ``retried``, ``deferred``,
        ``failed``, ``requeued`` or ``deleted``)."""


class LogContext(Middleware):
    def __init__(self) -> None:
        self._tokens: dict[str, contextvars.Token[Any]] = {}

    def before_job(self, job: Job, queue_name: str) -> None:
        self._tokens[job.id] = context.push(**events.job_labels(job, queue_name))

    def after_job(self, job: Job, queue_name: str, outcome: str, duration: float) -> None:
        token = self._tokens.pop(job.id, None)
        if token is not None:
            context.pop(token)


class Metrics(Middleware):
    def before_job(self, job: Job, queue_name: str) -> None:
        metrics.IN_FLIGHT.inc()

    def after_job(self, job: Job, queue_name: str, outcome: str, duration: float) -> None:
        metrics.IN_FLIGHT.dec()


class JobEvent(Middleware):
    def after_job(self, job: Job, queue_name: str, outcome: str, duration: float) -> None:
        events.emit(job, events.job_labels(job, queue_name), outcome, duration, _reason(job, outcome))


def _reason(job: Job, outcome: str) -> str:
    """Why a job did not finish: this run's classified failure, or (a forking worker's parent)
    the reason its horse wrote."""
    if outcome in ("finished", "requeued", "deleted"):
        return ""
    failure = getattr(getattr(job, "run", None), "failure", None)
    if failure is not None:
        return str(failure.reason)
    try:
        return contract.text(job.connection.hget(job.key, "last_failure"))
    except Exception:
        return ""


def load(names: list[str]) -> list[Middleware]:
    """The built-ins, then each ``module:Class`` of ``names`` (a name that can't be loaded is
    logged and skipped: a broken plug-in must not stop the worker)."""
    loaded: list[Middleware] = [LogContext(), Metrics()]
    for name in names:
        module_name, _, class_name = name.partition(":")
        try:
            loaded.append(getattr(importlib.import_module(module_name), class_name)())
        except Exception as exc:
            log.error("middleware %s could not be loaded: %s", name, exc)
    loaded.append(JobEvent())
    return loaded


class Hooks:
    """The ordered middleware of one worker."""

    def __init__(self, middleware: list[Middleware]) -> None:
        self.middleware = middleware

    def before(self, job: Job, queue_name: str) -> None:
        for hook in self.middleware:
            try:
                hook.before_job(job, queue_name)
            except Exception:
                log.exception("middleware %s failed before job %s", type(hook).__name__, job.id)

    def after(self, job: Job, queue_name: str, outcome: str, duration: float) -> None:
        for hook in reversed(self.middleware):
            try:
                hook.after_job(job, queue_name, outcome, duration)
            except Exception:
                log.exception("middleware %s failed after job %s", type(hook).__name__, job.id)
