"""One pooled ``requests`` session per process, and the reading of an HTTP answer as an outcome.

A forked work horse must not reuse its parent's sockets, so the session is keyed by pid.
"""

from __future__ import annotations

import email.utils
import os
import time
from typing import Any, Protocol

import requests
import requests.adapters

from errors import DeliveryTimeout, ProviderRejected, ProviderUnavailable, RateLimited

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
    :class:`wrappers.guarded.Answer`."""

    @property
    def text(self) -> str: ...


def retry_after(response: Answer) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None


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


def send(method: str, url: str, what: str, **kwargs: object) -> requests.Response:
    """Send one request without following redirects; transport errors become classified errors."""
    try:
        return session().request(method, url, allow_redirects=False, **kwargs)  # type: ignore[arg-type]
    except (requests.ConnectTimeout, requests.ReadTimeout) as exc:
        raise DeliveryTimeout(f"{what}: timed out ({type(exc).__name__})") from exc
    except requests.ConnectionError as exc:
        raise ProviderUnavailable(f"{what}: connection failed ({type(exc).__name__})") from exc
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ) as exc:
        raise ProviderRejected(f"{what}: invalid URL ({type(exc).__name__})") from exc
