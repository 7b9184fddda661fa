"""One structured event per job: the log record Elasticsearch ships and the metrics it counts."""

from __future__ import annotations

import logging
import time
from typing import Any

from rq.job import Job

from rq_ext import contract, metrics

log = logging.getLogger("fusion.jobs")

#: Job hash status after the job -> the event's outcome.
OUTCOMES = {"finished": "finished", "failed": "failed", "scheduled": "retried", "queued": "requeued"}


def job_labels(job: Job, queue_name: str) -> dict[str, Any]:
    """Channel, gateway and attempt of a job, for log context and metric labels (never payload
    data). Whatever the job holds, this never raises."""
    try:
        return _labels(job, queue_name)
    except Exception:
        return {"queue": queue_name, "job_id": job.id, "channel": "other", "gateway": "", "attempt": 1}


def _labels(job: Job, queue_name: str) -> dict[str, Any]:
    task = getattr(job, "task", None)
    payload = task.get("payload") if isinstance(task, dict) else None
    payload = payload if isinstance(payload, dict) else {}
    code = payload.get("task")
    gateway = payload.get("gateway") or payload.get("platform") or ""
    return {
        "queue": queue_name,
        "job_id": job.id,
        "channel": contract.CHANNEL_NAMES.get(code, "other") if isinstance(code, int) else "other",
        "gateway": str(gateway)[:40] if isinstance(gateway, str) else "",
        "attempt": int(getattr(job, "retry_count", 0)) + 1,
    }


def queue_wait(job: Job, started: float) -> float | None:
    enqueued = job.enqueued_at
    return max(0.0, started - enqueued.timestamp()) if enqueued else None


def emit(job: Job, labels: dict[str, Any], outcome: str, duration: float) -> None:
    """Log and count the job's outcome (one INFO line per job outcome)."""
    duration = round(duration, 4)
    wait = queue_wait(job, time.time() - duration)
    metrics.JOBS.labels(labels["queue"], labels["channel"], labels["gateway"], outcome).inc()
    metrics.DURATION.labels(labels["queue"], labels["channel"]).observe(duration)
    if wait is not None:
        metrics.WAIT.labels(labels["queue"]).observe(wait)
    if outcome == "retried":
        metrics.RETRIES.labels(labels["queue"]).inc()
    log.info(
        "job %s %s in %.3fs",
        job.id,
        outcome,
        duration,
        extra={"event": "job", "outcome": outcome, "duration": duration, "wait": wait},
    )


def outcome_of_status(status: str) -> str:
    """The outcome a job hash's status shows (a forking worker reads it after its horse)."""
    return OUTCOMES.get(status, status or "deleted")
