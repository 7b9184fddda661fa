"""The job a log record is about: worker, queue, job id, channel, gateway, attempt.

The worker sets it around each job; a logging filter copies it onto every record, so a line
logged deep inside a channel still says which job it belongs to. A forked work horse inherits it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Record attributes the structured formatters and Elasticsearch know.
FIELDS = ("worker", "queue", "job_id", "channel", "gateway", "attempt", "outcome", "duration", "wait", "event")

_EMPTY: dict[str, Any] = {}
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("fusion_log_context", default=None)


def current() -> dict[str, Any]:
    return _context.get() or _EMPTY


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to the log context for the duration of the block."""
    token = _context.set({**current(), **{k: v for k, v in fields.items() if v not in (None, "")}})
    try:
        yield
    finally:
        _context.reset(token)


def push(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Add ``fields`` to the log context until :func:`pop` (for hooks that open and close it
    in two calls, in the same thread)."""
    return _context.set({**current(), **{k: v for k, v in fields.items() if v not in (None, "")}})


def pop(token: contextvars.Token[dict[str, Any] | None]) -> None:
    try:
        _context.reset(token)
    except ValueError:  # made in another context: nothing of ours to undo here
        pass


def set_worker(name: str) -> None:
    """Name the worker for every record of this process (and of its work horses)."""
    _context.set({**current(), "worker": name})
