"""One pooled ``requests`` session per process, and the reading of an HTTP answer as an outcome.

A forked work horse must not reuse its parent's sockets, so the session is keyed by pid.
"""

from __future__ import annotations

import email.utils
import math
import os
import time
from datetime import UTC
from typing import Any, Protocol

import requests
import requests.adapters

from errors import ProviderRejected, ProviderUnavailable, RateLimited

_sessions: dict[int, requests.Session] = {}

#: Connections kept per provider host: at least as many as the jobs one process runs at once
#: (``--concurrency`` goes to 64), so none is thrown away and reopened under load.
POOL_SIZE = 128


def session() -> requests.Session:
    """The process's shared session (connection pool reused across jobs)."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions.clear()
        pooled = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=POOL_SIZE)
        for prefix in ("http://", "https://"):
            pooled.mount(prefix, adapter)
        _sessions[pid] = pooled
    return _sessions[pid]


class Answer(Protocol):
    """An HTTP answer: a ``requests.Response`` or a :class:`wrappers.pinned.Response`."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason(self) -> str: ...

    @property
    def headers(self) -> Any: ...


class TextAnswer(Answer, Protocol):
    """An answer whose body has been read: a ``requests.Response`` or a
    :class:`wrappers.transport.Answer`."""

    @property
    def text(self) -> str: ...


def retry_after(response: Answer) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    Integer or decimal seconds (``120``, ``1.5``) and HTTP dates are read; a negative value or a
    past date means "now" (0); a value beyond ``RETRY_AFTER_MAX`` is capped to it. Garbage is
    ignored (None): whatever the header holds, it never turns a retryable answer permanent.
    """
    value = response.headers.get("Retry-After")
    seconds = parse_retry_after(value) if isinstance(value, str) else None
    return None if seconds is None else min(seconds, _retry_after_cap())


def parse_retry_after(value: str) -> float | None:
    """Seconds in a ``Retry-After`` value (delta-seconds, decimal or HTTP date), uncapped."""
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(text: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # an HTTP date is GMT; "-0000" parses as naive
    return max(0.0, when.timestamp() - time.time())


def _retry_after_cap() -> float:
    from config import get_settings

    return float(get_settings().RETRY_AFTER_MAX)


def raise_for_outcome(response: Answer, what: str) -> None:
    """Raise the classified error for a non-2xx answer; return quietly on 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        raise RateLimited(f"{what}: HTTP 429 Too Many Requests", retry_after=retry_after(response))
    if status >= 500:
        raise ProviderUnavailable(f"{what}: HTTP {status} {response.reason}", retry_after=retry_after(response))
    if 300 <= status < 400:
        raise ProviderRejected(f"{what}: HTTP {status} redirect not followed")
    raise ProviderRejected(f"{what}: HTTP {status} {response.reason}")
