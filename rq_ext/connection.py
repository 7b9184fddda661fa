"""The Redis connection, from ``REDIS_URL``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

from redis import Redis
from redis.sentinel import Sentinel
from rq.serializers import JSONSerializer

from config import Settings
from wrappers.masking import mask_text
from wrappers.safe_pickle import SafePickleSerializer


def _timeouts(settings: Settings, timeout: float | None = None) -> dict[str, Any]:
    if timeout is not None:
        return {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    return {"socket_connect_timeout": 5, "socket_timeout": settings.WORKER_TTL + 10, "health_check_interval": 30}


def redis_from_settings(settings: Settings, timeout: float | None = None) -> Redis:
    """A client for ``REDIS_URL`` (or the Sentinel-elected master), with timeouts so that a dead
    Redis gives an error instead of a hang. ``rediss://`` URLs use TLS; a user and password in the
    URL authenticate with Redis ACLs.

    Without ``timeout`` the worker's timeouts apply (connect 5 s, read ``WORKER_TTL`` + 10 s: a
    blocking wait for work must not time out); with it, both connect and read give up after
    ``timeout`` seconds, as CLI commands want (see :func:`cli_redis_from_settings`)."""
    if settings.REDIS_SENTINELS:
        return _sentinel_master(settings, timeout)
    return Redis.from_url(settings.REDIS_URL, **_timeouts(settings, timeout))


def cli_redis_from_settings(settings: Settings) -> Redis:
    """A client for a CLI command: connect and read time out after ``CLI_REDIS_TIMEOUT`` seconds,
    so a silent or wrong service at ``REDIS_URL`` fails the command within seconds."""
    return redis_from_settings(settings, timeout=settings.CLI_REDIS_TIMEOUT)


def masked_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``, for logs and error messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(unparsable URL)"
    if password:
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    return mask_text(url)  # also ?password=... in unix:// URLs


def _sentinel_master(settings: Settings, timeout: float | None = None) -> Redis:
    """The master that the sentinels elect; redis-py rediscovers it after a failover."""
    url = urlparse(settings.REDIS_URL)
    sentinels = [(host, int(port)) for host, _, port in (a.rpartition(":") for a in settings.REDIS_SENTINELS)]
    db = int(url.path.strip("/") or 0)
    probe = 5 if timeout is None else timeout
    sentinel = Sentinel(sentinels, socket_timeout=probe, socket_connect_timeout=probe)
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=db,
        username=url.username,
        password=url.password,
        **_timeouts(settings, timeout),
    )


def serializer_from_settings(settings: Settings) -> Any:
    """rq's serializer for the ``SERIALIZER`` setting: ``json`` refuses pickled jobs; ``pickle``
    writes as rq's DefaultSerializer and reads through the restricted unpickler
    (:mod:`wrappers.safe_pickle`: plain data and ``PICKLE_SAFE_CLASSES`` only)."""
    return JSONSerializer if settings.SERIALIZER == "json" else SafePickleSerializer
