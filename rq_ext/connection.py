"""The Redis connection, from ``REDIS_URL``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

import redis.asyncio
import redis.asyncio.connection
import redis.asyncio.sentinel
from redis import Redis
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.sentinel import Sentinel, SentinelConnectionPool
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


#: The settings of a blocking client that its asyncio twin takes over (the rest are the blocking
#: client's own machinery).
TWIN_KEYS = (
    "host", "port", "path", "db", "username", "password", "client_name",
    "socket_timeout", "socket_connect_timeout", "socket_keepalive", "health_check_interval",
    "ssl_keyfile", "ssl_certfile", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_data", "ssl_check_hostname",
)  # fmt: skip
_TWIN_CLASSES: dict[type, type[redis.asyncio.connection.AbstractConnection]] = {
    Connection: redis.asyncio.connection.Connection,
    SSLConnection: redis.asyncio.connection.SSLConnection,
    UnixDomainSocketConnection: redis.asyncio.connection.UnixDomainSocketConnection,
}


def async_twin(connection: Redis) -> redis.asyncio.Redis:
    """An asyncio client (hiredis' parser when installed) for the same Redis as ``connection``,
    with its timeouts and credentials: a plain, TLS or unix-socket server, or the master that
    the same sentinels elect. Create and close it on the loop that uses it."""
    pool = connection.connection_pool
    kwargs = _twin_kwargs(pool.connection_kwargs)
    if isinstance(pool, SentinelConnectionPool):
        manager = pool.sentinel_manager
        sentinels = [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
                     for s in manager.sentinels]  # fmt: skip
        twin = redis.asyncio.sentinel.Sentinel(sentinels, sentinel_kwargs=manager.sentinel_kwargs)
        return twin.master_for(pool.service_name, **kwargs)
    kind = _TWIN_CLASSES.get(pool.connection_class, redis.asyncio.connection.Connection)
    return redis.asyncio.Redis(connection_pool=redis.asyncio.ConnectionPool(connection_class=kind, **kwargs))


def _twin_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: kwargs[key] for key in TWIN_KEYS if key in kwargs}
