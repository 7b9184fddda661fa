"""``python -m bench.timeline_cost``: the worker CPU that the dashboard's time buckets add.

Times :func:`rq_ext.timeline.record` on a pipeline that only queues (nothing is sent), for a
batch of 32 outcomes of one label set (the concurrent class's finisher) and for one outcome (the
forking and in-process classes), minus an empty pipeline's cost. Compare with the worker CPU per
job of ``make bench``.
"""

from __future__ import annotations

import timeit

from redis import Redis

from rq_ext import timeline

OUTCOME = ("sms", "sms", "msg91", "finished")


def cost(outcomes: list[tuple[str, str, str, str]], number: int = 20_000) -> float:
    """Seconds per call of ``timeline.record`` for ``outcomes``."""
    client = Redis(port=1)  # never connects: the pipeline only queues

    def record() -> None:
        timeline.record(client.pipeline(transaction=False), outcomes, 1.0e9)

    def empty() -> None:
        client.pipeline(transaction=False)

    with_record = min(timeit.repeat(record, number=number, repeat=5)) / number
    base = min(timeit.repeat(empty, number=number, repeat=5)) / number
    return with_record - base


def main() -> None:
    batch = cost([OUTCOME] * 32)
    one = cost([OUTCOME])
    print(f"timeline.record, batch of 32: {batch * 1e6:.1f} us ({batch * 1e6 / 32:.2f} us per job)")
    print(f"timeline.record, one outcome: {one * 1e6:.1f} us")


if __name__ == "__main__":
    main()
