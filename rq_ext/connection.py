"""The Redis connection, from ``REDIS_URL``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from redis import Redis
from redis.sentinel import Sentinel
from rq.serializers import JSONSerializer

from config import Settings
from wrappers.safe_pickle import SafePickleSerializer


def _timeouts(settings: Settings) -> dict[str, Any]:
    return {"socket_connect_timeout": 5, "socket_timeout": settings.WORKER_TTL + 10, "health_check_interval": 30}


def redis_from_settings(settings: Settings) -> Redis:
    """A client for ``REDIS_URL`` (or the Sentinel-elected master), with timeouts so that a dead
    Redis gives an error instead of a hang. ``rediss://`` URLs use TLS; a user and password in the
    URL authenticate with Redis ACLs."""
    if settings.REDIS_SENTINELS:
        return _sentinel_master(settings)
    return Redis.from_url(settings.REDIS_URL, **_timeouts(settings))


def _sentinel_master(settings: Settings) -> Redis:
    """The master that the sentinels elect; redis-py rediscovers it after a failover."""
    url = urlparse(settings.REDIS_URL)
    sentinels = [(host, int(port)) for host, _, port in (a.rpartition(":") for a in settings.REDIS_SENTINELS)]
    db = int(url.path.strip("/") or 0)
    sentinel = Sentinel(sentinels, socket_timeout=5, socket_connect_timeout=5)
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=db,
        username=url.username,
        password=url.password,
        **_timeouts(settings),
    )


def serializer_from_settings(settings: Settings) -> Any:
    """rq's serializer for the ``SERIALIZER`` setting: ``json`` refuses pickled jobs; ``pickle``
    writes as rq's DefaultSerializer and reads through the restricted unpickler
    (:mod:`wrappers.safe_pickle`: plain data and ``PICKLE_SAFE_CLASSES`` only)."""
    return JSONSerializer if settings.SERIALIZER == "json" else SafePickleSerializer
