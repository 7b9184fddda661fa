"""Jobs finished and failed per minute, kept in Redis as bounded time buckets.

Writer (the worker, once per batch of outcomes)::

    timeline.record(pipe, [(queue, channel, gateway, outcome), ...], now)

adds one ``HINCRBY fusion:timeline:<epoch minute> <queue>|<channel>|<gateway>|<outcome> <n>``
per distinct label set and one ``EXPIRE`` (``TTL``, 25 h) per batch, on the caller's pipeline
(nothing is sent until the caller executes it). Reader: :func:`series` for the dashboard.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rq_ext import contract

PREFIX = contract.TIMELINE_PREFIX
#: Seconds a minute bucket is kept: a day of charts plus an hour of slack.
TTL = 25 * 3600
#: Outcomes the charts draw (others, e.g. ``retried``, are kept and summed too).
CHARTED = ("finished", "failed")
#: The label dimensions of a bucket field, in order.
DIMENSIONS = ("queue", "channel", "gateway", "outcome")

Outcome = tuple[str, str, str, str]


def minute_key(when: float) -> str:
    return f"{PREFIX}{int(when // 60)}"


def _label(value: object) -> str:
    text = str(value or "-")[:40]
    return text.replace("|", "_")


def record(pipe: Any, outcomes: Iterable[Outcome], now: float | None = None) -> int:
    """Count ``outcomes`` (queue, channel, gateway, outcome) into the minute of ``now`` on
    ``pipe``; returns the number of distinct label sets written (0: nothing queued)."""
    counts = Counter("|".join(_label(part) for part in outcome) for outcome in outcomes)
    if not counts:
        return 0
    key = minute_key(time.time() if now is None else now)
    for field, n in counts.items():
        pipe.hincrby(key, field, n)
    pipe.expire(key, TTL)
    return len(counts)


def _minutes(now: float, minutes: int) -> list[int]:
    last = int(now // 60)
    return list(range(last - minutes + 1, last + 1))


def read_buckets(connection: Any, minutes: int, now: float | None = None) -> list[tuple[int, dict[str, int]]]:
    """The raw buckets of the last ``minutes`` minutes, oldest first: (epoch minute, fields)."""
    stamps = _minutes(time.time() if now is None else now, minutes)
    with connection.pipeline(transaction=False) as pipe:
        for minute in stamps:
            pipe.hgetall(f"{PREFIX}{minute}")
        replies = pipe.execute()
    return [
        (minute, {contract.text(k): int(v) for k, v in (reply or {}).items()})
        for minute, reply in zip(stamps, replies, strict=True)
    ]


def series(
    connection: Any, by: str = "queue", minutes: int = 60, step: int = 1, now: float | None = None
) -> dict[str, Any]:
    """Finished and failed counts per ``step`` minutes over the last ``minutes``, per value of
    the dimension ``by`` (queue, channel or gateway)::

        {"start": <epoch s of the first point>, "step": 60*step,
         "series": {"sms": {"finished": [..], "failed": [..]}, ...}}
    """
    return series_of(read_buckets(connection, minutes, now), by, step)


def series_of(buckets: list[tuple[int, dict[str, int]]], by: str, step: int = 1) -> dict[str, Any]:
    """:func:`series` of buckets already read (so several dimensions share one read)."""
    if by not in DIMENSIONS[:3]:
        raise ValueError(f"by must be one of {DIMENSIONS[:3]}")
    index = DIMENSIONS.index(by)
    points = (len(buckets) + step - 1) // step
    out: dict[str, dict[str, list[int]]] = {}
    for position, (_, fields) in enumerate(buckets):
        for field, n in fields.items():
            parts = field.split("|")
            if len(parts) != len(DIMENSIONS) or parts[3] not in CHARTED:
                continue
            lines = out.setdefault(parts[index], {name: [0] * points for name in CHARTED})
            lines[parts[3]][position // step] += n
    start = buckets[0][0] * 60 if buckets else 0
    return {"start": start, "step": 60 * step, "series": dict(sorted(out.items()))}


def totals(connection: Any, minutes: int = 60, now: float | None = None) -> dict[str, dict[str, int]]:
    """Finished and failed per queue, summed over the last ``minutes``."""
    result: dict[str, dict[str, int]] = {}
    for name, lines in series(connection, "queue", minutes, minutes, now)["series"].items():
        result[name] = {outcome: sum(values) for outcome, values in lines.items()}
    return result
