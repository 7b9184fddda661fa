"""What the dashboard may show of a job: id, function, channel, gateway, masked recipients,
priority, ages, ``retryCount`` and the masked failure reason. Never the message, the arguments
or a credential: the task is unpickled through the project's serializer (``SERIALIZER``; the
restricted unpickler once it lands) and only these few fields are taken out of it."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError

from rq_ext import contract
from rq_ext.job import DATE_FIELDS, FusionJob, parse_date
from wrappers.masking import MASK, mask_recipient, mask_text

#: Payload fields naming the recipients, per channel (the first present is used).
RECIPIENT_FIELDS = ("to", "tokens", "url")
MAX_RECIPIENTS = 5
#: Payload keys whose values are labels shown anyway (not redacted from reasons).
LABEL_KEYS = frozenset({"task", "gateway", "platform", "account", "method", "unicode"})
#: Shorter payload strings are not redacted from reasons (they would blank common words).
MIN_REDACTED = 4


@dataclass
class JobSummary:
    id: str
    exists: bool
    function: str
    channel: str
    gateway: str
    recipients: list[str]
    priority: float
    status: str
    origin: str
    age_s: float | None
    retry_count: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _recipients(payload: dict[str, Any]) -> list[str]:
    for name in RECIPIENT_FIELDS:
        value = payload.get(name)
        if value:
            items = value if isinstance(value, list) else [value]
            shown = [mask_recipient(name, item) for item in items[:MAX_RECIPIENTS]]
            return shown + ([f"+{len(items) - MAX_RECIPIENTS} more"] if len(items) > MAX_RECIPIENTS else [])
    return []


def payload_labels(task: Any) -> tuple[str, str, list[str]]:
    """Channel name, gateway and masked recipients of a task dict (never raises)."""
    payload = task.get("payload") if isinstance(task, dict) else None
    if not isinstance(payload, dict):
        return "-", "-", []
    channel = contract.channel_name(payload.get("task"))
    gateway = payload.get("gateway") or payload.get("platform") or payload.get("account") or "-"
    try:
        return channel, mask_text(str(gateway))[:40], _recipients(payload)
    except Exception:
        return channel, "-", []


def payload_strings(task: Any, key: str = "") -> set[str]:
    """Every string of a task (message, recipients, credentials...) that a reason might echo,
    except the few labels the dashboard shows anyway."""
    if key in LABEL_KEYS:
        return set()
    if isinstance(task, dict):
        return set().union(*(payload_strings(v, str(k)) for k, v in task.items())) if task else set()
    if isinstance(task, list | tuple):
        return set().union(*(payload_strings(v) for v in task)) if task else set()
    text = str(task) if isinstance(task, str | int | float) and not isinstance(task, bool) else ""
    return {text} if len(text) >= MIN_REDACTED else set()


def redact(text: str, secrets: set[str]) -> str:
    """``text`` with every one of ``secrets`` (longest first) replaced, then masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_text(text)


def _age(job: FusionJob, now: float) -> float | None:
    stamp = job.enqueued_at or job.created_at
    return round(now - stamp.timestamp(), 1) if stamp else None


def summarize(connection: Redis, job_id: str, serializer: Any, now: float | None = None) -> JobSummary:
    """A job's summary; a missing or unreadable job gives a row saying so."""
    now = time.time() if now is None else now
    job = FusionJob(job_id, connection=connection, serializer=serializer)
    try:
        job.refresh()
    except NoSuchJobError:
        return JobSummary(job_id, False, "-", "-", "-", [], 0.0, "missing", "", None, 0, "job hash missing")
    except Exception as exc:
        return _raw_summary(connection, job_id, f"unreadable job hash ({type(exc).__name__})", now)
    try:
        function = job.func_name or "-"
    except Exception:
        function = "(undecodable)"
    channel, gateway, recipients = payload_labels(job.task)
    status = contract.text(getattr(job.get_status(refresh=False), "value", "")) or "-"
    return JobSummary(
        id=job_id,
        exists=True,
        function=function,
        channel=channel,
        gateway=gateway,
        recipients=recipients,
        priority=job.priority,
        status=status,
        origin=job.origin or "",
        age_s=_age(job, now),
        retry_count=job.retry_count,
        reason=failure_reason(job, payload_strings(job.task)) if status == "failed" else "",
    )


def failure_reason(job: FusionJob, secrets: set[str] | None = None) -> str:
    """The masked one-line reason of a failed job: the reason line the worker wrote, or the
    last line of a traceback (its exception); empty when the job has none. Any of the job's
    own payload strings (``secrets``) that the reason echoes is replaced."""
    text = job._exc_info or ""
    if not text:
        try:
            result = job.latest_result()
            text = (result.exc_string or "") if result is not None else ""
        except Exception:
            text = ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return redact(line, secrets or set())[:300]


def _raw_summary(connection: Redis, job_id: str, reason: str, now: float) -> JobSummary:
    status, origin, priority, created = connection.hmget(
        contract.job_key(job_id), ["status", "origin", "priority", DATE_FIELDS[0]]
    )
    try:
        age = round(now - parse_date(created).timestamp(), 1) if created else None
    except ValueError:
        age = None
    try:
        prio = float(contract.text(priority) or 0)
    except ValueError:
        prio = 0.0
    return JobSummary(
        job_id, True, "-", "-", "-", [], prio, contract.text(status), contract.text(origin), age, 0, reason
    )
