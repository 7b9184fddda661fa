"""The Redis connection, from ``REDIS_URL``."""

from __future__ import annotations

from redis import Redis

from config import Settings


def redis_from_settings(settings: Settings) -> Redis:
    """A client for ``REDIS_URL`` with timeouts, so a dead Redis gives an error instead of a hang."""
    return Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=5,
        socket_timeout=settings.WORKER_TTL + 10,
        health_check_interval=30,
    )
