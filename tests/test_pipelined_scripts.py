"""A script and the commands after it in one round trip (:func:`rq_ext.scripts.pipelined`, used
by both finishers): by SHA only, the script loaded again when Redis lost it, the rest run once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis

from rq_ext import scripts
from rq_ext.connection import async_twin

# Counts its calls: a second run of the script shows as 2.
SOURCE = "return redis.call('INCR', KEYS[1])"


def rest(pipe: Any) -> None:
    pipe.incr("pipelined:rest")


def run_both(conn: redis.Redis, kind: str) -> Any:
    if kind == "blocking":
        return scripts.pipelined(conn, SOURCE, ["pipelined:script"], [], rest)

    async def go() -> Any:
        twin = async_twin(conn)
        try:
            return await scripts.pipelined_async(twin, SOURCE, ["pipelined:script"], [], rest)
        finally:
            await twin.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["blocking", "asyncio"])
def test_one_round_trip_without_script_exists(conn: redis.Redis, kind: str) -> None:
    conn.script_load(SOURCE)
    conn.config_resetstat()
    assert run_both(conn, kind) == 1
    stats = conn.info("commandstats")
    assert "cmdstat_script|exists" not in stats and "cmdstat_script" not in stats
    assert stats["cmdstat_evalsha"]["calls"] == 1
    assert conn.get("pipelined:rest") == b"1"


@pytest.mark.parametrize("kind", ["blocking", "asyncio"])
def test_a_flushed_script_is_loaded_and_run_once_and_the_rest_once(conn: redis.Redis, kind: str) -> None:
    conn.script_load(SOURCE)
    conn.script_flush()  # as after a Redis restart
    assert run_both(conn, kind) == 1
    assert (conn.get("pipelined:script"), conn.get("pipelined:rest")) == (b"1", b"1")
    assert run_both(conn, kind) == 2  # loaded again: by SHA from now on


@pytest.mark.parametrize("kind", ["blocking", "asyncio"])
def test_an_error_after_the_script_is_logged_not_raised(
    conn: redis.Redis, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    conn.set("pipelined:rest", "not a number")
    with caplog.at_level(logging.WARNING, logger="rq_ext.scripts"):
        assert run_both(conn, kind) == 1  # raising would make a retrying caller run it twice
    assert conn.get("pipelined:script") == b"1"
    assert "failed" in caplog.text


@pytest.mark.parametrize("kind", ["blocking", "asyncio"])
def test_an_error_of_the_script_itself_is_raised(conn: redis.Redis, kind: str) -> None:
    conn.set("pipelined:script", "not a number")
    with pytest.raises(redis.ResponseError):
        run_both(conn, kind)
    assert conn.get("pipelined:rest") == b"1"  # not a transaction: the rest ran
