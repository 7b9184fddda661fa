"""Riding out a Redis outage: bookkeeping retried until Redis is back, loop chores made safe.

A job that finished while Redis was down must have its bookkeeping completed, not dropped (or
the job would be recovered and sent again). ``until_redis_answers`` retries such a step with
backoff for up to ``REDIS_OUTAGE_GRACE`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from config import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean "Redis is unreachable right now".
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)


def until_redis_answers(step: Callable[[], T], what: str, settings: Settings | None = None) -> T:
    """Run ``step``; while Redis is unreachable, retry it with backoff (bounded by the grace)."""
    deadline = time.monotonic() + (settings or get_settings()).REDIS_OUTAGE_GRACE
    delay = 0.5
    while True:
        try:
            return step()
        except REDIS_DOWN as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("Redis unreachable during %s (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def tolerate_outage(step: Callable[[], T], what: str, default: T) -> T:
    """Run a chore of the worker loop; if Redis is down, log and go on with ``default``."""
    try:
        return step()
    except REDIS_DOWN as exc:
        log.warning("Redis unreachable during %s (%s); going on", what, type(exc).__name__)
        return default
