"""A per-gateway-account rate limit shared by every worker: a fixed window in Redis, one Lua call.

``rate_limit`` in a gateway's config is messages per second (``0.5`` = one message every two
seconds). A job over the limit raises :class:`~errors.Deferred`: the worker runs it again
when the window ends, without counting a retry.
"""

from __future__ import annotations

import math
from typing import Any

import redis

from config import get_settings
from errors import ConfigurationError, Deferred

PREFIX = "fusion:ratelimit:"

#: KEYS[1] window counter; ARGV limit, messages, window ms. Returns 0 (admitted) or ms to wait.
#: A request larger than the limit is admitted alone into an empty window.
SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit, n, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if current == 0 or current + n <= limit then
  if redis.call('INCRBY', KEYS[1], n) == n then redis.call('PEXPIRE', KEYS[1], window) end
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], window); ttl = window end
return ttl
"""


def window(rate: float) -> tuple[int, int]:
    """(messages, milliseconds) of a window for ``rate`` messages per second."""
    if rate >= 1:
        return int(rate), 1000
    return 1, math.ceil(1000 / rate)


def rate_of(config: dict[str, Any], label: str) -> float | None:
    """The configured ``rate_limit`` (messages per second), or None when unlimited."""
    raw = config.get("rate_limit")
    if raw in (None, "", 0, "0"):
        return None
    try:
        rate = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{label}: rate_limit must be a number of messages per second") from None
    if rate <= 0:
        raise ConfigurationError(f"{label}: rate_limit must be positive")
    return rate


def acquire(conn: Any, key: str, rate: float, messages: int, label: str) -> None:
    """Count ``messages`` against the window of ``key``; :class:`Deferred` when over the limit."""
    limit, window_ms = window(rate)
    client = conn if conn is not None else redis.Redis.from_url(get_settings().REDIS_URL)
    wait_ms = int(client.eval(SCRIPT, 1, PREFIX + key, limit, messages, window_ms))
    if wait_ms > 0:
        raise Deferred(f"rate limit of {label} reached ({rate:g}/s)", delay=max(wait_ms / 1000.0, 0.05))
