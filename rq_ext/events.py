"""One structured event per job: the log record Elasticsearch ships and the metrics it counts.

rq's own per-job INFO lines (dequeued, "Job OK", "Successfully completed", result kept) are
dropped by :class:`RqJobLines`, so a job logs one INFO line for its outcome; rq's traceback of a
classified (expected) failure goes to DEBUG, and the job's arguments never reach a log record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rq.job import Job

from rq_ext import contract, metrics
from wrappers.masking import mask_text

log = logging.getLogger("fusion.jobs")

#: Job hash status after the job -> the event's outcome.
OUTCOMES = {"finished": "finished", "failed": "failed", "scheduled": "retried", "queued": "requeued"}


def job_labels(job: Job, queue_name: str) -> dict[str, Any]:
    """Channel, gateway and attempt of a job, for log context and metric labels (never payload
    data). Whatever the job holds, this never raises. Read once per run (its log context, its
    outcome line and its finish all ask): kept on the job's run state, which callers never
    change (they copy it)."""
    run = getattr(job, "run", None)
    kept = getattr(run, "labels", None)
    if kept is not None and kept["queue"] == queue_name and kept["job_id"] == job.id:
        return kept
    try:
        labels = _labels(job, queue_name)
    except Exception:
        labels = {"queue": queue_name, "job_id": job.id, "channel": "other", "gateway": "", "attempt": 1}
    if run is not None and hasattr(run, "labels"):
        run.labels = labels
    return labels


def _labels(job: Job, queue_name: str) -> dict[str, Any]:
    task = getattr(job, "task", None)
    payload = task.get("payload") if isinstance(task, dict) else None
    payload = payload if isinstance(payload, dict) else {}
    code = payload.get("task")
    gateway = payload.get("gateway") or payload.get("platform") or ""
    return {
        "queue": queue_name,
        "job_id": job.id,
        "channel": contract.channel_name(code),
        "gateway": gateway_label(gateway),
        "attempt": int(getattr(job, "retry_count", 0)) + 1,
    }


def gateway_label(gateway: Any) -> str:
    """A gateway name the channels registered (``contract.KNOWN_GATEWAYS``), else ``other``:
    a label taken straight from payloads would have no bound."""
    if not gateway:
        return ""
    return gateway if isinstance(gateway, str) and gateway in contract.KNOWN_GATEWAYS else "other"


def queue_wait(job: Job, started: float) -> float | None:
    enqueued = job.enqueued_at
    return max(0.0, started - enqueued.timestamp()) if enqueued else None


def emit(job: Job, labels: dict[str, Any], outcome: str, duration: float, reason: str = "") -> None:
    """Log and count the job's outcome (one INFO line per job outcome, with the masked reason
    when it did not finish)."""
    duration = round(duration, 4)
    wait = queue_wait(job, time.time() - duration)
    metrics.JOBS.labels(labels["queue"], labels["channel"], labels["gateway"], outcome).inc()
    metrics.DURATION.labels(labels["queue"], labels["channel"]).observe(duration)
    if wait is not None:
        metrics.WAIT.labels(labels["queue"]).observe(wait)
    if outcome == "retried":
        metrics.RETRIES.labels(labels["queue"]).inc()
    if not log.isEnabledFor(logging.INFO):
        return
    shown = mask_text(reason)[:300] if reason and outcome != "finished" else ""
    log.info(
        "job %s %s in %.3fs%s",
        job.id,
        outcome,
        duration,
        f": {shown}" if shown else "",
        extra={**labels, "event": "job", "outcome": outcome, "duration": duration, "wait": wait, "reason": shown},
    )


def outcome_of_status(status: str) -> str:
    """The outcome a job hash's status shows (a forking worker reads it after its horse)."""
    return OUTCOMES.get(status, status or "deleted")


_expected = threading.local()


@contextmanager
def expected_failure(expected: bool) -> Iterator[None]:
    """Within the block, rq's traceback of the job's failure is logged at DEBUG (a classified
    failure: its reason is in the job's outcome line)."""
    _expected.on = expected
    try:
        yield
    finally:
        _expected.on = False


class RqJobLines(logging.Filter):
    """On rq's ``rq.worker`` logger: one line per job, no arguments in records."""

    PER_JOB = frozenset(
        {
            "Worker %s: %s: %s",
            "Worker %s: %s: %s (%s)",
            "Successfully completed job %s in %ss on worker %s",
            "Successfully completed %s job in %ss on worker %s",
            "Worker %s: job %s result is kept for %s seconds",
            "Worker %s: job %s result discarded immediately",
        }
    )
    TRACEBACK = "Worker %s: job %s: exception raised while executing (%s)\n%s"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.msg in self.PER_JOB:
            return False
        if record.msg == self.TRACEBACK:
            for name in ("arguments", "kwargs"):
                record.__dict__.pop(name, None)
            if getattr(_expected, "on", False):
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_RQ_FILTER = RqJobLines()


def quiet_rq() -> None:
    """Install the filter on rq's worker logger (once)."""
    logger = logging.getLogger("rq.worker")
    if _RQ_FILTER not in logger.filters:
        logger.addFilter(_RQ_FILTER)
