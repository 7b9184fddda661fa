"""The job class: rq's Job plus the server's extra hash fields and the function allowlist."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

from rq.job import Job
from rq.utils import decode_redis_hash, str_to_date

from config import get_settings
from errors import DisallowedFunction
from rq_ext import contract


def _int_field(obj: dict[str, Any], name: str) -> int:
    raw = obj.get(name)
    try:
        return int(float(raw)) if raw not in (None, b"", "") else 0
    except (TypeError, ValueError):
        return 0


def _text_field(obj: dict[str, Any], name: str) -> str:
    raw = obj.get(name)
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw) if raw else ""


#: The date fields of rq's job hash.
DATE_FIELDS = ("created_at", "enqueued_at", "started_at", "ended_at", "last_heartbeat")


def parse_date(raw: bytes | str) -> datetime:
    """A date of the job hash (rq's ``%Y-%m-%dT%H:%M:%S.%fZ``), as rq's ``str_to_date`` reads it."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return str_to_date(text)  # rq's own parser: its error for a date it can't read either
    return parsed if parsed.tzinfo is not None else str_to_date(text)


def check_allowed(func_name: str | None) -> None:
    """Refuse, before any import, a function outside ``JOB_FUNCTION_ALLOWLIST``."""
    prefixes = get_settings().JOB_FUNCTION_ALLOWLIST
    if not func_name or not any(func_name.startswith(p) for p in prefixes):
        raise DisallowedFunction(f"function {func_name!r} is not allowed (JOB_FUNCTION_ALLOWLIST)")


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

    def __init__(self, id: str | None = None, connection: Any = None, serializer: Any = None) -> None:
        # rq resolves the serializer with an isinstance() against a typing Protocol, ~15 µs per
        # job on Python 3.11; a serializer object the worker already resolved is taken as is.
        resolved = serializer if callable(getattr(serializer, "loads", None)) else None
        super().__init__(id, connection=connection, serializer=None if resolved else serializer)
        if resolved is not None:
            self.serializer = resolved

    def restore(self, raw_data: Any) -> Any:
        obj = decode_redis_hash(raw_data)
        # rq parses each date with strptime (~15 µs each); fromisoformat reads the same format.
        dates = {name: obj.pop(name, None) for name in DATE_FIELDS}
        result = super().restore(obj)
        for name, raw in dates.items():
            if raw:
                setattr(self, name, parse_date(raw))
        self.retry_count = _int_field(obj, contract.RETRY_COUNT)
        self.recoveries = _int_field(obj, contract.RECOVERIES)
        self.success_task_handler = _text_field(obj, contract.SUCCESS_HANDLER)
        self.failed_task_handler = _text_field(obj, contract.FAILED_HANDLER)
        try:
            self.priority = float(_text_field(obj, contract.PRIORITY) or 0)
        except ValueError:
            self.priority = 0.0
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
        """rq's Retry path, kept on the priority queue instead of RPUSHing a list."""
        from rq_ext.queue import FusionQueue

        super().retry(FusionQueue(self.origin, connection=self.connection, serializer=self.serializer), pipeline)

    def requeue(self, at_front: bool = False) -> Job:
        """Put a failed job back into its queue with its priority (never as a list push)."""
        from rq_ext.queue import FusionQueue

        queue = FusionQueue(self.origin, connection=self.connection, serializer=self.serializer)
        with self.connection.pipeline() as pipe:
            self.failed_job_registry.remove(self, pipeline=pipe)
            pipe.hset(self.key, mapping={"status": "queued", "recoveries": 0})
            queue.push_job_id(self.id, pipeline=pipe, at_front=at_front)
            pipe.execute()
        return self
