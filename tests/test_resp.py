"""The event loop's own Redis client (:mod:`rq_ext.resp`) against a real ``redis-server``: redis-py's
command methods and error classes, AUTH and SELECT, unix sockets, a killed and restarted Redis, a
server that never answers, a request cancelled mid-way, and which client the loop gets."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from redis._parsers.base import BaseParser
from redis.exceptions import AuthenticationError, NoScriptError, ResponseError

from rq_ext.resilience import REDIS_DOWN
from rq_ext.resp import LeanRedis, Pipeline, loop_client, pack
from tests.redis_procs import RedisProc


def on_loop(client: LeanRedis, body: Callable[[LeanRedis], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.fixture
def server(tmp_path: Path) -> Any:
    proc = RedisProc(tmp_path / "r").start()
    yield proc
    proc.stop(kill=True)


def test_redis_py_error_parsing_it_relies_on_is_still_there() -> None:
    """Pins the private names this client uses: redis-py's reply-error parser and its classes."""
    assert isinstance(BaseParser.parse_error("NOSCRIPT No matching script"), NoScriptError)
    assert isinstance(BaseParser.parse_error("WRONGPASS invalid username-password pair"), AuthenticationError)
    assert type(BaseParser.parse_error("WRONGTYPE Operation against a key")) is ResponseError


def test_commands_and_pipelines_answer_as_redis_py_does(server: Any) -> None:
    async def body(client: LeanRedis) -> Any:
        await client.set("s", "1")
        pipe = client.pipeline(transaction=False)
        assert isinstance(pipe, Pipeline)
        async with pipe:
            pipe.hset("h", "f", "v")
            pipe.expire("h", 100)
            pipe.hincrby("h", "n", 2)
            pipe.lpush("s", 1)  # WRONGTYPE
            replies = await pipe.execute(raise_on_error=False)
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            async with client.pipeline() as again:
                again.lpush("s", 1)
                await again.execute()
        with pytest.raises(NoScriptError):
            await client.evalsha("0" * 40, 0)
        sha = await client.script_load("return {KEYS[1], ARGV[1], 3}")
        return (
            replies,
            await client.evalsha(sha, 1, "k", "é"),
            await client.get("s"),
            await client.blpop(["none"], 0.05),
        )

    replies, script, text, popped = on_loop(LeanRedis(port=server.port), body)
    assert replies[:3] == [1, 1, 2] and isinstance(replies[3], ResponseError)
    assert script == [b"k", "é".encode(), 3] and text == b"1" and popped is None
    assert redis.Redis(port=server.port).hgetall("h") == {b"f": b"v", b"n": b"2"}


def test_arguments_are_encoded_as_redis_py_encodes_them() -> None:
    assert (
        pack([("SET", "k", 1.5, 2, b"\x00")]) == b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n\x00\r\n"
    )
    assert pack([("SCRIPT LOAD", "x")]).startswith(b"*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n")
    with pytest.raises(redis.DataError):
        pack([("SET", "k", None)])


def test_auth_select_and_a_wrong_password(tmp_path: Path) -> None:
    proc = RedisProc(tmp_path / "r", "--requirepass", "s3cret")
    proc.start(ping=lambda: redis.Redis(port=proc.port, password="s3cret").ping())
    try:
        blocking = redis.Redis(port=proc.port, db=3, password="s3cret", client_name="fusion-loop")
        blocking.set("where", "db3")
        client = loop_client(blocking)
        assert isinstance(client, LeanRedis)
        assert on_loop(client, lambda c: c.get("where")) == b"db3"
        with pytest.raises(AuthenticationError):
            on_loop(LeanRedis(port=proc.port, password="wrong"), lambda c: c.get("where"))
    finally:
        proc.stop(kill=True)


def test_a_unix_socket(tmp_path: Path) -> None:
    sock = tmp_path / "redis.sock"
    proc = RedisProc(tmp_path / "r", "--unixsocket", str(sock)).start()
    try:
        blocking = redis.Redis(unix_socket_path=str(sock))
        blocking.set("via", "unix")
        client = loop_client(blocking)
        assert isinstance(client, LeanRedis)
        assert on_loop(client, lambda c: c.get("via")) == b"unix"
    finally:
        proc.stop(kill=True)


def test_redis_killed_then_restarted_raises_redis_down_then_reconnects(tmp_path: Path) -> None:
    proc = RedisProc(tmp_path / "r").start()
    port = proc.port
    restarted: list[RedisProc] = []

    async def body(client: LeanRedis) -> Any:
        await client.set("k", "before")
        proc.stop(kill=True)
        with pytest.raises(REDIS_DOWN):
            await client.get("k")
        with pytest.raises(REDIS_DOWN):  # refused while it is down: never a job's failure
            await client.get("k")
        restarted.append(RedisProc(tmp_path / "r", port=port).start())
        await client.set("k", "after")
        return await client.get("k")

    try:
        assert on_loop(LeanRedis(port=port, socket_connect_timeout=1), body) == b"after"
    finally:
        for p in restarted:
            p.stop(kill=True)


def silent_server() -> tuple[socket.socket, int]:
    """A loopback server that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.extend(listener.accept()[0] for _ in range(8)), daemon=True).start()
    return listener, listener.getsockname()[1]


def test_an_answer_later_than_socket_timeout_is_a_timeout_and_the_connection_is_dropped() -> None:
    listener, port = silent_server()

    async def body(client: LeanRedis) -> Any:
        started = asyncio.get_running_loop().time()
        with pytest.raises(redis.TimeoutError):
            await client.get("k")
        took = asyncio.get_running_loop().time() - started
        assert not client._idle  # never reused: its answer would be out of step
        return took

    try:
        assert 0.2 <= on_loop(LeanRedis(port=port, socket_timeout=0.3), body) < 2
    finally:
        listener.close()


def test_a_closed_port_is_a_connection_error() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(redis.ConnectionError):
        on_loop(LeanRedis(port=port), lambda c: c.get("k"))


def test_a_request_cancelled_mid_way_never_leaves_its_answer_to_the_next(server: Any) -> None:
    redis.Redis(port=server.port).set("k", "right")

    async def body(client: LeanRedis) -> Any:
        waiting = asyncio.ensure_future(client.blpop(["empty"], 1))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        redis.Redis(port=server.port).rpush("empty", "late")  # BLPOP would have answered this
        return await client.get("k"), await client.lrange("empty", 0, -1)

    got, left = on_loop(LeanRedis(port=server.port), body)
    assert got == b"right"
    assert left in ([b"late"], [])  # the dropped BLPOP may have popped it server-side, never us


def test_the_loop_gets_redis_py_for_sentinels_tls_and_when_asked(server: Any) -> None:
    plain = redis.Redis(port=server.port)
    assert isinstance(loop_client(plain), LeanRedis)
    assert not isinstance(loop_client(plain, "redis-py"), LeanRedis)
    tls = redis.Redis(port=server.port, ssl=True)
    assert not isinstance(loop_client(tls), LeanRedis)
