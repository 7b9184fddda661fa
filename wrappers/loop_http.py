"""The event-loop transport's own HTTP/1.1 client: asyncio ``Protocol``s over httptools' parser.

:class:`LoopTransport` performs a :class:`wrappers.transport.Request` on the running loop with
the rules of the threaded transport, from the same code: the SSRF guard and the pinned address
(:func:`wrappers.transport.target_of`; a name lookup runs on a thread, never on the loop),
``Host``, SNI and the certificate checked against the real host (a pool holds connections per
address, port and TLS name, so two hosts on one address never share a TLS connection), the header
check of :mod:`wrappers.pinned`, no redirects, no proxy, no cookies, the answer read up to
``max_answer`` bytes (gzip and deflate answers decoded, the decoded bytes capped), connect and read
timeouts of ``timeout`` seconds each. Failures are the classified errors of one table
(:data:`ERRORS`).

Why not aiohttp (kept as ``ASYNC_HTTP_CLIENT=aiohttp``): aiohttp spends ~200 us of CPU per request
here, against ~30-40 us for this client (``python -m bench.http_clients``), and at a few thousand
sends a second that difference is most of a core. The parser is llhttp (Node.js's), through
MagicStack's httptools; what is written here is the request head, the pool and the timers.

The pool never sends a request twice: a connection that closed (or sent anything) while idle is
dropped before it is used, and a request whose connection fails is a failure, not a resend, since
the provider may have received it. A connection is reused only after an answer read whole from a
keep-alive exchange; a cancelled, timed-out, truncated or failed exchange closes it.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections import deque
from typing import Any

import httptools
from multidict import CIMultiDict

from errors import DeliveryTimeout, InvalidPayload, ProviderRejected, ProviderUnavailable
from wrappers import pinned
from wrappers.aio_http import AioTransport, tls_context
from wrappers.ssrf import Target
from wrappers.transport import Answer, ErrorTable, LoopHTTP, Request, classified, target_of, target_without_lookup

#: The methods sent (every channel's; not HEAD, whose answer the parser would wait a body for).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
#: A connection idle this long is closed rather than reused (aiohttp's default keep-alive).
IDLE_SECONDS = 15.0


class AnswerBroken(Exception):
    """The provider's answer ended early or could not be parsed."""


#: Errors of a send -> (classified error, what it says), most specific first.
ERRORS: ErrorTable = (
    (ssl.SSLCertVerificationError, ProviderRejected, "TLS certificate verification failed"),
    (TimeoutError, DeliveryTimeout, "timed out"),
    (AnswerBroken, ProviderUnavailable, "connection failed"),
    (httptools.HttpParserError, ProviderUnavailable, "connection failed"),
    (ssl.SSLError, ProviderUnavailable, "connection failed"),
    (OSError, ProviderUnavailable, "connection failed"),
)


#: What a send may raise that :data:`ERRORS` classifies.
FAILURES = tuple(caught for caught, _, _ in ERRORS)


def transport_error(exc: BaseException, what: str) -> Exception:
    """The classified error for a failed send."""
    return classified(exc, what, ERRORS)


def request_head(request: Request, target: Target) -> bytes:
    """The request line and headers; the body's length is always our own count."""
    lines = [f"{request.method} {pinned.request_target(request.url)} HTTP/1.1"]
    for name, value in pinned.request_headers(request.headers, target, request.what).items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            lines.append(f"{name}: {value}")
    if request.body is not None or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(request.body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class Decoder:
    """A gzip or deflate body decoded as it arrives, never past ``room`` bytes."""

    def __init__(self, encoding: str) -> None:
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        self._raw = encoding == "deflate"  # some servers send deflate without the zlib header
        self._started = False

    def decode(self, chunk: bytes, room: int) -> bytes:
        if self._raw and not self._started:
            self._started = True
            try:
                return self._inflate.decompress(chunk, room)
            except zlib.error:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflate.decompress(chunk, room)


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one exchange at a time."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[Answer] | None = None
        self._parser = httptools.HttpResponseParser(self)

    # --- the exchange, as the transport drives it -------------------------------------------

    async def exchange(self, head: bytes, body: bytes | None, limit: int, timeout: float) -> Answer:
        self._reset(limit)
        self._waiter = waiter = self._loop.create_future()
        assert self.transport is not None
        if body and len(body) > pinned.ONE_SEGMENT_MAX:
            self.transport.write(head)
            self.transport.write(body)
        else:
            self.transport.write(head + (body or b""))
        self._timeout, self._last_read = timeout, self._loop.time()
        self._timer = self._loop.call_at(self._last_read + timeout, self._check_timeout)
        try:
            return await waiter
        finally:
            self._timer.cancel()
            self._waiter = None

    def _reset(self, limit: int) -> None:
        self._limit, self._content = limit, bytearray()
        self._status, self._reason = 0, ""
        self._headers: list[tuple[str, str]] = []
        self._decoder: Decoder | None = None
        self._truncated = self._complete = self._framed = self._keep_alive = False

    def _check_timeout(self) -> None:
        due = self._last_read + self._timeout
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check_timeout)
            return
        self._fail(TimeoutError("no answer within the read timeout"))

    def _fail(self, exc: BaseException) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def _answer(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            headers = CIMultiDict(self._headers)
            waiter.set_result(Answer(self._status, self._reason, headers, bytes(self._content), self._truncated))

    def reusable(self) -> bool:
        return not self.closed and self._complete and self._keep_alive and not self._truncated

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # anything from an idle connection makes it unusable
            self.close()
            return
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(AnswerBroken("the provider switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        self.closed = True  # never reused, even before connection_lost arrives
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._status and not self._framed:  # a body that ends with the connection
                self._complete = True
                self._answer()
            else:
                self._fail(exc or AnswerBroken("the provider closed the connection before answering"))

    # --- httptools' callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset(self._limit)

    def on_status(self, reason: bytes) -> None:
        self._reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        names = {name.lower(): value for name, value in self._headers}
        self._framed = "content-length" in names or "chunked" in names.get("transfer-encoding", "").lower()
        encoding = names.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "deflate", "x-gzip"):
            self._decoder = Decoder("gzip" if encoding == "x-gzip" else encoding)

    def on_body(self, chunk: bytes) -> None:
        if self._truncated:
            return
        room = self._limit + 1 - len(self._content)
        try:
            data = self._decoder.decode(chunk, room) if self._decoder is not None else chunk[:room]
        except zlib.error as exc:
            self._fail(AnswerBroken(f"the answer cannot be decoded ({exc})"))
            return
        self._content += data
        if len(self._content) > self._limit:
            del self._content[self._limit :]
            self._truncated = True
            self._answer()
            self.close()  # the rest of the body is not read: the connection cannot be reused

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer (100 Continue): the real one follows
            return
        self._complete, self._keep_alive = True, self._parser.should_keep_alive()
        self._answer()


class LoopTransport:
    """Connections to providers for one event loop: at most ``limit`` exchanges at once, idle
    keep-alive connections kept per (scheme, address, port, TLS name), newest first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._idle: dict[tuple[Any, ...], deque[Connection]] = {}
        self._idle_count = 0
        self._busy: set[Connection] = set()
        self._slots: asyncio.Semaphore | None = None

    async def send(self, request: Request) -> Answer:
        """Perform ``request``; the answer, read and capped. Raises the classified errors."""
        if request.method not in METHODS:  # HEAD's answer would be framed as if it had a body
            raise InvalidPayload(f"{request.what}: method {request.method!r} is not one of {', '.join(METHODS)}")
        target = target_without_lookup(request)
        if target is None:  # a name: resolved and checked on a thread, never on the loop
            target = await asyncio.get_running_loop().run_in_executor(None, target_of, request)
        head = request_head(request, target)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            try:
                connection = self._reuse(target) or await self._connect(target, request.timeout)
            except FAILURES as exc:  # TimeoutError is an OSError
                raise transport_error(exc, request.what) from exc
            self._busy.add(connection)
            try:
                answer = await connection.exchange(head, request.body, request.max_answer, request.timeout)
            except FAILURES as exc:
                raise transport_error(exc, request.what) from exc
            finally:
                self._busy.discard(connection)
                self._release(connection)
            return answer

    @staticmethod
    def key(target: Target) -> tuple[Any, ...]:
        tls_name = None if target.scheme != "https" or target.is_ip_literal else target.host
        return (target.scheme, target.address, target.port, tls_name)

    def _reuse(self, target: Target) -> Connection | None:
        idle = self._idle.get(self.key(target))
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    async def _connect(self, target: Target, timeout: float) -> Connection:
        loop = asyncio.get_running_loop()
        key = self.key(target)
        options: dict[str, Any] = {}
        if target.scheme == "https":
            options["ssl"] = tls_context(pinned.ca_bundle())
            options["server_hostname"] = key[3] or target.address
            options["ssl_handshake_timeout"] = timeout
        async with asyncio.timeout(timeout):
            sock = await open_socket(target.address, target.port)
            try:
                _, connection = await loop.create_connection(lambda: Connection(key), sock=sock, **options)
            except BaseException:
                sock.close()
                raise
        return connection

    def _release(self, connection: Connection) -> None:
        if not connection.reusable():
            connection.close()
            return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(connection.key, deque()).append(connection)
        self._idle_count += 1
        if self._idle_count > self.limit:  # too many kept: the longest idle goes
            oldest = min((queue for queue in self._idle.values() if queue), key=lambda queue: queue[0].idle_since)
            oldest.popleft().close()
            self._idle_count -= 1

    async def close(self) -> None:
        for queue in self._idle.values():
            for connection in queue:
                connection.close()
        self._idle.clear()
        self._idle_count = 0
        for connection in list(self._busy):
            connection.close()


def open_transport(client: str, limit: int) -> LoopHTTP:
    """The event loop's HTTP transport: ``native`` (:class:`LoopTransport`) or ``aiohttp``
    (:class:`wrappers.aio_http.AioTransport`), as ``ASYNC_HTTP_CLIENT`` names it."""
    return AioTransport(limit) if client == "aiohttp" else LoopTransport(limit)


async def open_socket(host: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket (Python's own ``connect``, so a test's network guard
    sees it); a name is looked up by the loop's resolver (on a thread), its addresses tried in
    order."""
    loop = asyncio.get_running_loop()
    try:  # an address needs no lookup
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=NUMERIC)
    except socket.gaierror:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    error: OSError = OSError(f"no address for {host!r}")
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
    raise error
