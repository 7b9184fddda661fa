"""Riding out a Redis outage: bookkeeping retried until Redis is back, loop chores made safe.

A job that finished while Redis was down must have its bookkeeping completed, not dropped (or
the job would be recovered and sent again). ``until_redis_answers`` retries such a step with
backoff for up to ``REDIS_OUTAGE_GRACE`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis

from config import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean "Redis is unreachable right now".
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)


def until_redis_answers(step: Callable[[], T], what: str, settings: Settings | None = None) -> T:
    """Run ``step``; while Redis is unreachable, retry it with backoff (bounded by the grace)."""
    backoff = Backoff(what, settings or get_settings())
    while True:
        try:
            return step()
        except REDIS_DOWN as exc:
            time.sleep(backoff.next_or_raise(exc))


async def until_redis_answers_async(step: Callable[[], Awaitable[T]], what: str, settings: Settings) -> T:
    """:func:`until_redis_answers` on an event loop: the backoff sleeps without blocking it."""
    backoff = Backoff(what, settings)
    while True:
        try:
            return await step()
        except REDIS_DOWN as exc:
            await asyncio.sleep(backoff.next_or_raise(exc))


class Backoff:
    """The waits between tries of a step while Redis is down: 0.5 s doubling up to 5 s, until
    ``REDIS_OUTAGE_GRACE`` has passed (then the step's error is raised)."""

    def __init__(self, what: str, settings: Settings) -> None:
        self.what = what
        self.deadline = time.monotonic() + settings.REDIS_OUTAGE_GRACE
        self.delay = 0.5

    def next_or_raise(self, exc: BaseException) -> float:
        delay = self.delay
        if time.monotonic() + delay > self.deadline:
            raise exc
        log.warning("Redis unreachable during %s (%s); retrying in %.1fs", self.what, type(exc).__name__, delay)
        self.delay = min(delay * 2, 5.0)
        return delay


def tolerate_outage(step: Callable[[], T], what: str, default: T) -> T:
    """Run a chore of the worker loop; if Redis is down, log and go on with ``default``."""
    try:
        return step()
    except REDIS_DOWN as exc:
        log.warning("Redis unreachable during %s (%s); going on", what, type(exc).__name__)
        return default
