"""The one place that turns an attempt into its outcome, and the writes that make it durable.

Every attempt of every worker class ends in exactly one of:

- ``finished``: the success callback (if the job has a ``success_task_handler``);
- ``retried``: a retryable failure under ``MAX_RETRIES``: ``retryCount`` + 1, status
  ``scheduled``, and either a hand-over to ``FUSION_SERVER/retryTask/`` (the job waits in
  ``fusion:awaiting_retry``) or, without a server, ``schedulerSet`` after a backoff;
- ``deferred``: not a failure (our own rate limit, or Redis lost mid-job): ``schedulerSet``
  after the delay, ``retryCount`` unchanged, no callback;
- ``failed``: permanent, or retries exhausted: the failure callback (if the job has a
  ``failed_task_handler``), then rq's failed registry.

:func:`decide_success` / :func:`decide_failure` decide; :func:`stage` queues the decision's
writes — the job hash, the schedule, and the outbox entries (callback, hand-over) — into the
one transaction that also ends the run in rq's bookkeeping (the worker's ``cleanup_execution``
or the lean path's ``FINISH``), so the job's final state and what it promises are written
together or not at all. Delivery is the outbox sender's, never the job's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from config import Settings
from errors import Failure, InvalidJob
from rq_ext import callbacks, contract, outbox, retry
from rq_ext.job import FusionJob
from rq_ext.outbox import Entry

FINISHED, RETRIED, DEFERRED, FAILED = "finished", "retried", "deferred", "failed"


@dataclass
class Decision:
    """What an attempt comes to, and what it promises to deliver."""

    outcome: str
    reason: str = ""
    #: ``retryCount`` once the decision is applied.
    retry_count: int = 0
    #: Seconds until the job runs again (``retried`` locally, ``deferred``).
    delay: float = 0.0
    handed_over: bool = False
    #: The failed job's ``failure_trace`` (reason, then the traceback where there is one).
    trace: str = ""
    entries: list[Entry] = field(default_factory=list)


def describe(job: FusionJob) -> str:
    try:
        return callbacks.describe(job.func_name or "", job.task)
    except Exception:
        return f"job {job.id}"


def decide_success(job: FusionJob) -> Decision:
    entries = []
    if job.success_task_handler:
        fields = callbacks.success_fields(job.id, describe(job), job.retry_count, job._result)
        task = job.task
        if isinstance(task, dict) and task.get("reference") is not None:
            fields.setdefault("reference", str(task["reference"]))
        entry_id = outbox.entry_id(job.id, FINISHED, job.retry_count)
        entries.append(Entry(entry_id, outbox.CALLBACK, job.id, FINISHED, job.success_task_handler, fields))
    return Decision(FINISHED, retry_count=job.retry_count, entries=entries)


def decide_failure(job: FusionJob, failure: Failure, exc_string: str, retry_count: int, settings: Settings) -> Decision:
    if failure.deferred is not None:
        return Decision(DEFERRED, failure.reason, retry_count, delay=failure.deferred)
    if failure.retryable and retry_count < settings.MAX_RETRIES:
        try:
            return _retried(job, failure, retry_count + 1, settings)
        except InvalidJob as exc:
            failure = Failure(False, str(exc))
    trace = failure_trace(failure, exc_string, retry_count)
    entries = []
    if job.failed_task_handler:
        fields = {**dict(failure.details), **callbacks.failure_fields(job.id, describe(job), trace)}
        entry_id = outbox.entry_id(job.id, FAILED, retry_count)
        entries.append(Entry(entry_id, outbox.CALLBACK, job.id, FAILED, job.failed_task_handler, fields))
    return Decision(FAILED, failure.reason, retry_count, trace=trace, entries=entries)


def _retried(job: FusionJob, failure: Failure, count: int, settings: Settings) -> Decision:
    delay = retry.backoff(settings, count, failure.retry_after)
    if not settings.FUSION_SERVER:
        return Decision(RETRIED, failure.reason, count, delay)
    body = retry.handover_body(_args(job))
    entry = Entry(outbox.entry_id(job.id, RETRIED, count), outbox.HANDOVER, job.id, RETRIED, body=body)
    entry.fallback_delay = delay
    return Decision(RETRIED, failure.reason, count, delay, handed_over=True, entries=[entry])


def _args(job: FusionJob) -> Any:
    try:
        return job.args
    except Exception as exc:
        raise InvalidJob(
            f"task cannot be handed to /retryTask/: its args cannot be read ({type(exc).__name__})"
        ) from None


def failure_trace(failure: Failure, exc_string: str, retry_count: int) -> str:
    reason = failure.reason
    if failure.retryable:
        reason = f"retries exhausted ({retry_count} attempts): {reason}"
    if exc_string and "Traceback" in exc_string:
        return f"{reason}\n\n{exc_string}"
    return reason


def stage(pipe: Any, job_id: str, decision: Decision, now: float | None = None) -> None:
    """Queue the decision's own writes in ``pipe``, the transaction that ends the run."""
    when = time.time() if now is None else now
    outbox.stage(pipe, decision.entries, when)
    key = contract.job_key(job_id)
    if decision.outcome == RETRIED:
        mapping = {contract.RETRY_COUNT: decision.retry_count, "status": "scheduled"}
        pipe.hset(key, mapping={**mapping, "last_failure": decision.reason[:1000]})
        if decision.handed_over:
            pipe.zadd(contract.AWAITING_RETRY, {job_id: when})
        else:
            pipe.zadd(contract.SCHEDULER_SET, {job_id: when + decision.delay})
    elif decision.outcome == FAILED:
        pipe.hset(key, "last_failure", decision.reason[:1000])
    elif decision.outcome == DEFERRED:
        pipe.hset(key, "status", "scheduled")
        pipe.zadd(contract.SCHEDULER_SET, {job_id: when + decision.delay})
