"""The event loop's scripts in one pipeline per batch (:class:`rq_ext.batching.ScriptBatch`):
each plan gets its own script's reply or error, a script Redis lacks is loaded and run once, and
a failed round trip raises into every plan of the batch. Against a real ``redis-server``."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.exceptions import ResponseError

from config import get_settings
from rq_ext.aio import Drivers, LedgerWriter, drive
from rq_ext.batching import ScriptBatch
from rq_ext.connection import async_twin
from rq_ext.resilience import REDIS_DOWN
from rq_ext.sansio import Plan, Script
from tests.redis_procs import RedisProc
from wrappers.loop_http import open_transport

#: Counts its runs per key: a script that ran twice shows.
COUNT = "return redis.call('INCR', KEYS[1])"
FAIL = "return redis.error_reply('refused ' .. ARGV[1])"


@pytest.fixture
def server(tmp_path: Path) -> Any:
    proc = RedisProc(tmp_path / "r").start()
    yield proc
    proc.stop(kill=True)


def calls(conn: redis.Redis, name: str) -> int:
    """Calls of command ``name`` that ran (a NOSCRIPT reply is counted as a failed call)."""
    stats = conn.info("commandstats").get(f"cmdstat_{name}", {})
    return int(stats.get("calls", 0)) - int(stats.get("failed_calls", 0)) - int(stats.get("rejected_calls", 0))


class Counted(ScriptBatch):
    """Records the size of each round trip's batch."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.sizes: list[int] = []

    async def _send(self, batch: list[Any]) -> list[Any]:
        self.sizes.append(len(batch))
        return await super()._send(batch)


def test_the_scripts_of_one_loop_turn_go_in_one_round_trip_each_with_its_reply(server: Any) -> None:
    conn = redis.Redis(port=server.port)
    conn.script_load(COUNT)
    batch: Counted | None = None

    async def go() -> list[Any]:
        nonlocal batch
        client = async_twin(conn)
        batch = Counted(client)
        try:
            return await asyncio.gather(*(batch.run(COUNT, [f"k{i % 3}"], []) for i in range(9)))
        finally:
            await batch.close()
            await client.aclose()

    conn.config_resetstat()
    assert asyncio.run(go()) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert calls(conn, "evalsha") == 9 and calls(conn, "eval") == 0
    assert batch is not None and batch.sizes == [9]  # queued in one loop turn: one round trip


def test_a_script_redis_lacks_is_loaded_and_runs_once_and_errors_stay_with_their_plan(server: Any) -> None:
    conn = redis.Redis(port=server.port)
    conn.script_flush()

    async def go() -> list[Any]:
        client = async_twin(conn)
        batch = ScriptBatch(client)
        try:
            runs = [batch.run(COUNT, ["counted"], []), batch.run(FAIL, [], ["x"]), batch.run(COUNT, ["counted"], [])]
            return await asyncio.gather(*runs, return_exceptions=True)
        finally:
            await batch.close()
            await client.aclose()

    first, failed, second = asyncio.run(go())
    assert sorted([first, second]) == [1, 2]  # each ran exactly once
    assert int(conn.get("counted") or 0) == 2
    assert isinstance(failed, ResponseError) and "refused x" in str(failed)


def test_a_failed_round_trip_raises_into_every_plan_of_the_batch(server: Any) -> None:
    conn = redis.Redis(port=server.port, socket_timeout=2, socket_connect_timeout=1)
    server.stop(kill=True)  # a closed loopback port

    async def go() -> list[Any]:
        client = async_twin(conn)
        batch = ScriptBatch(client)
        try:
            return await asyncio.gather(*(batch.run(COUNT, ["k"], []) for _ in range(3)), return_exceptions=True)
        finally:
            await batch.close()
            await client.aclose()

    errors = asyncio.run(go())
    assert len(errors) == 3 and all(isinstance(e, REDIS_DOWN) for e in errors), errors


def test_plans_on_the_loop_send_their_scripts_through_the_batch(server: Any) -> None:
    conn = redis.Redis(port=server.port)

    def plan(i: int) -> Plan[Any]:
        first = yield Script(conn, COUNT, (f"plan{i}",))
        second = yield Script(conn, COUNT, (f"plan{i}",))
        return (first, second)

    async def go() -> list[Any]:
        client = async_twin(conn)
        with ThreadPoolExecutor(1) as pool:
            drivers = Drivers(open_transport("native", 4), LedgerWriter(client, get_settings()), pool, client)
            try:
                return await asyncio.gather(*(drive(plan(i), drivers) for i in range(20)))
            finally:
                await drivers.close()
                await client.aclose()

    conn.script_flush()
    conn.config_resetstat()
    assert asyncio.run(go()) == [(1, 2)] * 20
    assert calls(conn, "script|load") == 1
    assert calls(conn, "evalsha") + calls(conn, "eval") == 40  # each script ran once
    assert all(int(conn.get(f"plan{i}") or 0) == 2 for i in range(20))
