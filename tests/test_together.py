"""``Together``: one plan's sub-plans run at once, on threads (the blocking driver) and as tasks
of the event loop, with their results in order and a failure raised once all have ended."""

from __future__ import annotations

import time
from typing import Any

import pytest

from errors import ProviderUnavailable
from rq_ext import sansio
from rq_ext.sansio import Plan, Together
from tests.fault_servers import Recorder
from tests.loop_transport import run_on_loop
from wrappers.transport import Answer, Request


@pytest.fixture
def slow():
    server = Recorder(latency=(0.2, 0.2))
    yield server
    server.stop()


def ask(url: str, n: int) -> Plan[int]:
    answer: Answer = yield Request("POST", f"{url}/send", "test", 5.0, {"Content-Type": "application/json"},
                                   b'{"job": "t%d"}' % n, guarded=False)  # fmt: skip
    return answer.status_code * 1000 + n


def many(url: str, count: int) -> Plan[list[int]]:
    results: list[int] = yield from sansio.together([ask(url, n) for n in range(count)], limit=8)
    return results


@pytest.mark.parametrize("driver", ["threads", "loop"])
def test_sub_plans_run_at_once_and_keep_their_order(settings: Any, slow: Recorder, driver: str) -> None:
    run = sansio.run if driver == "threads" else run_on_loop
    started = time.monotonic()
    assert run(many(slow.url, 8)) == [200_000 + n for n in range(8)]
    assert time.monotonic() - started < 8 * 0.2 / 2, "the sub-plans ran one after another"
    assert sorted(slow.jobs_sent()) == [f"t{n}" for n in range(8)]


@pytest.mark.parametrize("driver", ["threads", "loop"])
def test_a_failing_sub_plan_is_raised_after_the_others_ended(settings: Any, slow: Recorder, driver: str) -> None:
    closed = "http://127.0.0.1:9"  # a closed loopback port

    def mixed() -> Plan[Any]:
        yield Together((ask(slow.url, 0), ask(closed, 1), ask(slow.url, 2)))

    run = sansio.run if driver == "threads" else run_on_loop
    with pytest.raises(ProviderUnavailable):
        run(mixed())
    assert sorted(slow.jobs_sent()) == ["t0", "t2"]  # the others were sent, not abandoned


def test_one_plan_runs_in_place_and_none_is_nothing() -> None:
    def one() -> Plan[int]:
        return 7
        yield  # pragma: no cover

    assert sansio.run(sansio.together([one()])) == [7]
    steps = sansio.together([])
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value == []
