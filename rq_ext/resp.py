"""The event loop's own Redis client (``ASYNC_REDIS_CLIENT=native``, the default): RESP2 over an
asyncio protocol, hiredis' reader for the replies, for the few calls the loop makes (claims,
finishes, ledger records, scripts, the wait for jobs, the suspension check).

redis-py's asyncio client costs ~90-240 µs of CPU per round trip here (``Retry.call_with_retry``,
its connection checks, command packing one argument at a time); this one 2.2-3.3x less for the
same calls, most of what is left the loop's own I/O (``python -m bench.redis_clients``;
docs/performance.md, "Sixth step"). It keeps what the worker relies on:

- redis-py's command methods and argument rules (its ``CoreCommands`` build every command) and
  its error classes: a reply error is the exception redis-py raises for it (``NOSCRIPT`` ->
  ``NoScriptError``, ``LOADING`` -> ``BusyLoadingError``...), a refused or lost connection
  ``redis.ConnectionError``, a reply later than ``socket_timeout`` ``redis.TimeoutError``; the
  outage handling (:mod:`rq_ext.resilience`) sees what it saw before;
- never a second send: a command whose connection failed is not retried here (redis-py retried
  up to 3 times, so a script whose reply was lost could run twice); the callers' own rules apply
  (a claim is reconciled, a finish or a record waits for Redis, an admission counts as unknown);
- a pool of connections (one request in flight on each), closed and dropped on any failure;
  AUTH, SELECT and CLIENT SETNAME as the worker's own connection has them; TCP through Python's
  ``socket.connect`` (a test's network guard sees it), or a unix socket.

TLS and sentinel connections keep redis-py's client (:func:`rq_ext.connection.async_twin`).
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import redis.connection
import redis.sentinel
from redis import Redis
from redis import exceptions as rex
from redis._parsers.base import BaseParser
from redis.asyncio.client import Pipeline as AsyncPipeline
from redis.asyncio.client import Redis as AsyncRedis

from rq_ext.connection import async_twin
from wrappers.loop_http import open_socket

#: The settings of the worker's connection this client takes (the rest have no meaning here).
KWARGS = ("host", "port", "path", "db", "username", "password", "client_name", "socket_timeout",
          "socket_connect_timeout")  # fmt: skip
Command = tuple[Any, ...]


def encode(value: Any) -> bytes:
    """An argument as redis-py encodes it (bytes as they are, numbers by ``repr``, str UTF-8)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool) or not isinstance(value, int | float | memoryview):
        raise rex.DataError(
            f"Invalid input of type: {type(value).__name__!r}. Convert to a bytes, string, int or float first."
        )
    return bytes(value) if isinstance(value, memoryview) else repr(value).encode()


def pack(commands: list[Command]) -> bytes:
    """The commands in RESP, one buffer."""
    out: list[bytes] = []
    for command in commands:
        if isinstance(command[0], str) and " " in command[0]:  # "SCRIPT LOAD": two words, as redis-py sends it
            command = (*command[0].split(), *command[1:])
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            data = encode(arg)
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def reply_error(reply: Any) -> Any:
    """A reply, or the exception redis-py gives for an error reply."""
    if isinstance(reply, hiredis.ReplyError):
        return BaseParser.parse_error(str(reply))
    return reply


class Link(asyncio.Protocol):
    """One connection: one batch of commands in flight at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reader = hiredis.Reader()
        self.transport: Any = None  # uvloop's transports are no asyncio.Transport subclass
        self.closed = False
        self._future: asyncio.Future[list[Any]] | None = None
        self._wanted = 0
        self._replies: list[Any] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.reader.feed(data)
            while len(self._replies) < self._wanted:
                reply = self.reader.gets()
                if reply is False:
                    return
                self._replies.append(reply_error(reply))
        except hiredis.ProtocolError as exc:
            self._fail(rex.ConnectionError(f"Protocol error from {self.name}: {exc}"))
            return
        future, self._future, self._wanted = self._future, None, 0
        if future is None or self.reader.has_data():  # a reply nobody asked for: out of step
            self._fail(rex.ConnectionError(f"unexpected reply from {self.name}"))
        if future is not None and not future.done():
            future.set_result(self._replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(rex.ConnectionError(f"Connection closed by {self.name}" + (f": {exc}" if exc else ".")))

    def _fail(self, error: Exception) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_exception(error)

    def close(self) -> None:
        self._fail(rex.ConnectionError(f"Connection to {self.name} closed"))

    async def send(self, commands: list[Command], timeout: float | None) -> list[Any]:
        """The replies to ``commands`` (error replies as exceptions, in place)."""
        if self.closed or self.transport is None:
            raise rex.ConnectionError(f"Connection to {self.name} closed")
        loop = asyncio.get_running_loop()
        self._future, self._wanted, self._replies = loop.create_future(), len(commands), []
        future = self._future
        timer = None if timeout is None else loop.call_later(timeout, self._timed_out, future)
        try:
            self.transport.write(pack(commands))
            return await future
        except asyncio.CancelledError:
            self._fail(rex.ConnectionError("cancelled mid-request"))  # its replies would be out of step
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _timed_out(self, future: asyncio.Future[list[Any]]) -> None:
        if future is self._future and not future.done():
            self._future = None
            future.set_exception(rex.TimeoutError(f"Timeout reading from {self.name}"))
            self._fail(rex.TimeoutError("timed out"))


class Pipeline(AsyncPipeline):
    """Commands queued by redis-py's command methods, sent in one round trip by :meth:`execute`
    (redis-py's pipeline type, none of its state: only the methods below are its own)."""

    def __init__(self, client: LeanRedis) -> None:  # no super().__init__: no pool
        self.lean = client
        self.commands: list[Command] = []

    def __len__(self) -> int:
        return len(self.commands)

    def __bool__(self) -> bool:
        return True

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(args)
        return self

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        commands, self.commands = self.commands, []
        if not commands:
            return []
        replies = await self.lean.send(commands)
        if raise_on_error:
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        return replies

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.commands = []


class LeanRedis(AsyncRedis):
    """The client: redis-py's asyncio command methods over a pool of :class:`Link` s (redis-py's
    client type, for the code typed with it; none of its state: only the methods below are its
    own)."""

    def __init__(self, **kwargs: Any) -> None:  # no super().__init__: no redis-py pool
        self.kwargs = {key: kwargs[key] for key in KWARGS if kwargs.get(key) is not None}
        self.name = str(
            self.kwargs.get("path") or f"{self.kwargs.get('host', 'localhost')}:{self.kwargs.get('port', 6379)}"
        )
        self._idle: deque[Link] = deque()
        self._open: set[Link] = set()

    def __repr__(self) -> str:
        return f"<LeanRedis {self.name}>"

    def __del__(self, *args: Any) -> None:
        """Nothing: its connections close with the loop (redis-py's check reads its own state)."""

    def pipeline(self, transaction: bool = False, shard_hint: Any = None) -> Pipeline:
        if transaction:
            raise ValueError("the event loop's Redis client sends no transactions")
        return Pipeline(self)

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        reply = (await self.send([args]))[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def send(self, commands: list[Command]) -> list[Any]:
        """The replies to ``commands``, in one round trip on a pooled connection."""
        link = await self._take()
        try:
            replies = await link.send(commands, self.kwargs.get("socket_timeout"))
        except BaseException:
            self._drop(link)
            raise
        self._idle.append(link)
        return replies

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        for link in list(self._open):
            self._drop(link)
        self._idle.clear()

    async def _take(self) -> Link:
        while self._idle:
            link = self._idle.pop()
            if not link.closed:
                return link
            self._open.discard(link)
        return await self._connect()

    def _drop(self, link: Link) -> None:
        link.close()
        self._open.discard(link)

    async def _connect(self) -> Link:
        loop = asyncio.get_running_loop()
        link = Link(self.name)
        try:
            sock = await asyncio.wait_for(self._socket(), self.kwargs.get("socket_connect_timeout"))
            await loop.create_connection(lambda: link, sock=sock)
        except OSError as exc:  # TimeoutError is one
            kind: Callable[[str], Exception] = (
                rex.TimeoutError if isinstance(exc, TimeoutError) else rex.ConnectionError
            )
            raise kind(f"Error connecting to {self.name}: {exc or type(exc).__name__}") from exc
        self._open.add(link)
        try:
            await self._handshake(link)
        except BaseException:
            self._drop(link)
            raise
        return link

    async def _socket(self) -> socket.socket:
        path = self.kwargs.get("path")
        if not path:
            return await open_socket(str(self.kwargs.get("host", "localhost")), int(self.kwargs.get("port", 6379)))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, path)
        except BaseException:
            sock.close()
            raise
        return sock

    async def _handshake(self, link: Link) -> None:
        """AUTH, SELECT and CLIENT SETNAME, as the worker's own connection has them."""
        kw = self.kwargs
        commands: list[Command] = []
        if kw.get("password"):
            commands.append(
                ("AUTH", kw["username"], kw["password"]) if kw.get("username") else ("AUTH", kw["password"])
            )
        if kw.get("db"):
            commands.append(("SELECT", kw["db"]))
        if kw.get("client_name"):
            commands.append(("CLIENT", "SETNAME", kw["client_name"]))
        if commands:
            for reply in await link.send(commands, kw.get("socket_timeout")):
                if isinstance(reply, Exception):  # AuthenticationError is a ConnectionError
                    raise reply


def loop_client(connection: Redis, kind: str = "native") -> AsyncRedis:
    """The event loop's client for the Redis of ``connection``: a :class:`LeanRedis` for a plain
    TCP or unix-socket connection when ``kind`` is ``native``, else redis-py's
    (:func:`rq_ext.connection.async_twin`: TLS, sentinels, ``ASYNC_REDIS_CLIENT=redis-py``).
    Create and close it on the loop that uses it."""
    pool = connection.connection_pool
    plain = pool.connection_class in (redis.connection.Connection, redis.connection.UnixDomainSocketConnection)
    if kind != "native" or not plain or isinstance(pool, redis.sentinel.SentinelConnectionPool):
        return async_twin(connection)
    return LeanRedis(**pool.connection_kwargs)
