"""The job class: rq's Job plus the server's extra hash fields, the function allowlist, and the
state of one run, declared."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rq.job import Job, JobStatus
from rq.utils import decode_redis_hash, parse_timeout, str_to_date

from config import get_settings
from errors import DisallowedFunction, Failure, InvalidJob
from rq_ext import contract, scripts


def _text_field(obj: dict[str, Any], name: str) -> str:
    raw = obj.get(name)
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw) if raw else ""


def int_field(obj: dict[str, Any], name: str) -> int:
    """An integer extra field; absent, empty or unreadable: 0 (documented default)."""
    try:
        value = float(_text_field(obj, name) or 0)
    except ValueError:
        return 0
    return int(value) if math.isfinite(value) else 0


def float_field(obj: dict[str, Any], name: str) -> float:
    """A number extra field (``priority``); absent, unreadable or not finite: 0."""
    try:
        value = float(_text_field(obj, name) or 0)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


#: The date fields of rq's job hash.
DATE_FIELDS = ("created_at", "enqueued_at", "started_at", "ended_at", "last_heartbeat")
#: rq's fields it parses with int(); a bad value must fail the job naming the field.
INT_FIELDS = ("result_ttl", "failure_ttl", "success_callback_timeout", "failure_callback_timeout")


def parse_date(raw: bytes | str) -> datetime:
    """A date of the job hash (rq's ``%Y-%m-%dT%H:%M:%S.%fZ``), as rq's ``str_to_date`` reads it."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return str_to_date(text)  # rq's own parser: its error for a date it can't read either
    return parsed if parsed.tzinfo is not None else str_to_date(text)


def malformed(name: str, raw: Any, expected: str) -> InvalidJob:
    shown = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return InvalidJob(
        f"malformed job hash: field {name!r} is {type(shown).__name__} {str(shown)[:40]!r}, expected {expected}"
    )


def check_fields(obj: dict[str, Any]) -> None:
    """Refuse, naming the field, a value rq's ``restore`` would choke on with a bare error."""
    for name in INT_FIELDS:
        if obj.get(name):
            try:
                int(obj[name])
            except (TypeError, ValueError):
                raise malformed(name, obj[name], "an integer") from None
    if obj.get("timeout"):
        try:
            parse_timeout(_text_field(obj, "timeout"))
        except Exception:
            raise malformed("timeout", obj["timeout"], "seconds, or digits + d/h/m/s") from None
    if obj.get("status"):
        try:
            JobStatus(_text_field(obj, "status"))
        except ValueError:
            raise malformed("status", obj["status"], "one of rq's job statuses") from None


def check_allowed(func_name: str | None) -> None:
    """Refuse, before any import, a function outside ``JOB_FUNCTION_ALLOWLIST``."""
    prefixes = get_settings().JOB_FUNCTION_ALLOWLIST
    if not func_name or not any(func_name.startswith(p) for p in prefixes):
        raise DisallowedFunction(f"function {func_name!r} is not allowed (JOB_FUNCTION_ALLOWLIST)")


@dataclass
class RunState:
    """What one run of a job has decided so far (never written to Redis as such)."""

    #: The job's exception, classified once (``handle_exception``).
    failure: Failure | None = None
    #: ``retryCount`` as read once for this failure.
    retry_count: int | None = None
    #: The outcome's writes, queued in the transaction that ends the run (set by the outcome path).
    writes: Callable[[Any], None] | None = None
    #: The outcome once applied (``finished``, ``retried``, ``deferred``, ``failed``).
    outcome: str | None = None
    #: The run's labels (:func:`rq_ext.events.job_labels`), read once.
    labels: dict[str, Any] | None = None


class FusionJob(Job):
    """A job as the platform's server writes it: ``retryCount``, ``success_task_handler``,
    ``failed_task_handler`` and ``priority`` beside rq's own fields (absent fields take defaults)."""

    retry_count: int = 0
    success_task_handler: str = ""
    failed_task_handler: str = ""
    priority: float = 0.0
    recoveries: int = 0
    #: The job's ``rq:wip:<queue>`` member when the lean path started it (None on rq's path).
    wip_entry: str | None = None
    #: When the claim found no delivery ledger for this job: what this run recorded in it (so
    #: the ledger need not be read from Redis). None: unknown, read Redis.
    ledger_fresh: dict[str, str] | None = None
    run: RunState

    def __init__(self, id: str | None = None, connection: Any = None, serializer: Any = None) -> None:
        # rq resolves the serializer with an isinstance() against a typing Protocol, ~15 µs per
        # job on Python 3.11; a serializer object the worker already resolved is taken as is.
        resolved = serializer if callable(getattr(serializer, "loads", None)) else None
        super().__init__(id, connection=connection, serializer=None if resolved else serializer)
        if resolved is not None:
            self.serializer = resolved
        self.run = RunState()

    def restore(self, raw_data: Any) -> Any:
        obj = decode_redis_hash(raw_data)
        check_fields(obj)
        # rq parses each date with strptime (~15 µs each); fromisoformat reads the same format.
        dates = {name: obj.pop(name, None) for name in DATE_FIELDS}
        result = super().restore(obj)
        for name, raw in dates.items():
            if raw:
                try:
                    setattr(self, name, parse_date(raw))
                except ValueError:
                    raise malformed(name, raw, "a date") from None
        self.retry_count = int_field(obj, contract.RETRY_COUNT)
        self.recoveries = int_field(obj, contract.RECOVERIES)
        self.success_task_handler = _text_field(obj, contract.SUCCESS_HANDLER)
        self.failed_task_handler = _text_field(obj, contract.FAILED_HANDLER)
        self.priority = float_field(obj, contract.PRIORITY)
        return result

    @property
    def func(self) -> Any:
        check_allowed(self.func_name)
        func = super().func
        module = getattr(inspect.unwrap(func), "__module__", "") or ""
        if not any((module + ".").startswith(p) for p in get_settings().JOB_FUNCTION_ALLOWLIST):
            raise DisallowedFunction(f"function {self.func_name!r} resolves outside the allowlist")
        return func

    @property
    def task(self) -> Any:
        """The job's task dict (its first argument), or None when it has none or can't be read."""
        try:
            args = self.args
        except Exception:
            return None
        return args[0] if isinstance(args, list | tuple) and args else None

    def retry(self, queue: Any, pipeline: Any) -> None:
        """rq's Retry path (its started-registry cleanup), kept on the priority queue: the job goes
        back into its queue by the push rule instead of an RPUSH onto a list."""
        self.retries_left = max(0, (self.retries_left or 1) - 1)
        self.set_status(JobStatus.QUEUED, pipeline=pipeline)
        scripts.push(self.connection, self.origin, self.id, client=pipeline)

    def requeue(self, at_front: bool = False) -> Job:
        """Put a failed job back into its queue with its priority (never as a list push)."""
        with self.connection.pipeline() as pipe:
            self.failed_job_registry.remove(self, pipeline=pipe)
            pipe.hset(self.key, mapping={"status": "queued", "recoveries": 0})
            scripts.push(self.connection, self.origin, self.id, client=pipe, at_front=at_front)
            pipe.execute()
        return self
