"""The event-loop class's asyncio Redis client (:func:`rq_ext.connection.async_twin`) reaches the
same Redis as the worker's blocking client, and its ledger writer rides out an outage."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import redis

from rq_ext.aio import LedgerWriter
from rq_ext.connection import async_twin
from rq_ext.ledger import Ledger
from rq_ext.sansio import Record
from tests.redis_procs import RedisProc


def twin_answers(connection: redis.Redis) -> tuple[Any, Any]:
    """What the twin of ``connection`` reads of ``twin:probe``, and the server's role."""

    async def go() -> tuple[Any, Any]:
        twin = async_twin(connection)
        try:
            return await twin.get("twin:probe"), (await twin.info("replication"))["role"]
        finally:
            await twin.aclose()

    return asyncio.run(go())


def test_twin_of_a_tcp_client_keeps_its_database_password_and_timeouts(tmp_path: Path) -> None:
    server = RedisProc(tmp_path / "r", "--requirepass", "s3cret")
    server.start(ping=lambda: redis.Redis(port=server.port, password="s3cret").ping())
    try:
        blocking = redis.Redis(port=server.port, db=3, password="s3cret", socket_timeout=7)
        blocking.set("twin:probe", "db3")
        twin = async_twin(blocking)
        kwargs = twin.connection_pool.connection_kwargs
        assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"]) == (3, "s3cret", 7)
        assert twin_answers(blocking) == (b"db3", "master")
    finally:
        server.stop(kill=True)


def test_twin_of_a_unix_socket_client(tmp_path: Path) -> None:
    sock = tmp_path / "redis.sock"
    server = RedisProc(tmp_path / "r", "--unixsocket", str(sock)).start()
    try:
        blocking = redis.Redis(unix_socket_path=str(sock))
        blocking.set("twin:probe", "unix")
        assert twin_answers(blocking) == (b"unix", "master")
    finally:
        server.stop(kill=True)


def test_twin_of_a_sentinel_client_reaches_the_elected_master(tmp_path: Path) -> None:
    master = RedisProc(tmp_path / "master").start()
    conf = f"sentinel monitor fusion 127.0.0.1 {master.port} 1\nsentinel down-after-milliseconds fusion 1000\n"
    sentinel = RedisProc(tmp_path / "s", sentinel_conf=conf).start()
    try:
        blocking = redis.sentinel.Sentinel([("127.0.0.1", sentinel.port)], socket_timeout=2).master_for("fusion")
        blocking.set("twin:probe", "elected")
        assert twin_answers(blocking) == (b"elected", "master")
    finally:
        sentinel.stop(kill=True)
        master.stop(kill=True)


def test_ledger_writer_waits_out_an_outage_then_writes(tmp_path: Path, settings_factory: Any) -> None:
    settings = settings_factory(REDIS_OUTAGE_GRACE=30)
    server = RedisProc(tmp_path / "r").start()
    port = server.port
    blocking = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=1)
    server.stop(kill=True)
    restarted = threading.Timer(1.5, lambda: RedisProc(tmp_path / "r", port=port).start())

    async def go() -> float:
        client = async_twin(blocking)
        writer = LedgerWriter(client, settings)
        ledgers = [Ledger("webhook", f"job-{n}", blocking) for n in range(3)]
        started = time.monotonic()
        restarted.start()
        try:
            await asyncio.gather(*(writer.record(Record(ledger, "request", "id-1")) for ledger in ledgers))
        finally:
            await writer.close()
            await client.aclose()
        return time.monotonic() - started

    waited = asyncio.run(go())
    restarted.join()
    try:
        assert waited >= 1.0  # the records waited for Redis instead of failing their jobs
        for n in range(3):
            assert blocking.hvals(Ledger("webhook", f"job-{n}", blocking).key) == [b"id-1"]
    finally:
        redis.Redis(port=port).shutdown(nosave=True)
