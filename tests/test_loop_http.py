"""The event loop's own HTTP client (:mod:`wrappers.loop_http`) against scripted servers on
loopback that answer with exactly the bytes a test gives: keep-alive and its stale connections,
framing (length, chunked, to the end of the connection, interim answers), caps, gzip bombs,
timeouts, TLS names, a provider that drops the connection at each step. Each test runs the client
on uvloop, as the worker does, and compares with aiohttp where both must agree."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvloop

from errors import DeliveryTimeout, InvalidPayload, ProviderRejected, ProviderUnavailable
from tests.channels.certs import make_ca
from wrappers.loop_http import LoopTransport, open_transport, request_head
from wrappers.transport import Answer, Request, target_of


class Peer:
    """One accepted connection of a :class:`Scripted` server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read_request(self) -> tuple[bytes, bytes] | None:
        """(head, body) of the next request; None once the client closed."""
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(65536)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


class Scripted:
    """A TCP server on 127.0.0.1 running ``script(peer)`` for each connection (optionally TLS)."""

    def __init__(self, script: Callable[[Peer], None], tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()

    def _run(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            self.script(Recording(sock, self.requests))
        except OSError:
            pass
        finally:
            sock.close()

    def url(self, path: str = "/hook", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.listener.close()


class Recording(Peer):
    def __init__(self, sock: socket.socket, requests: list[tuple[bytes, bytes]]) -> None:
        super().__init__(sock)
        self.requests = requests

    def read_request(self) -> tuple[bytes, bytes] | None:
        request = super().read_request()
        if request is not None:
            self.requests.append(request)
        return request


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def serve_each(answer: bytes) -> Callable[[Peer], None]:
    """Keep-alive: every request on the connection gets ``answer``."""

    def script(peer: Peer) -> None:
        while peer.read_request() is not None:
            peer.send(answer)

    return script


@pytest.fixture
def server() -> Any:
    started: list[Scripted] = []

    def start(script: Callable[[Peer], None], tls: ssl.SSLContext | None = None) -> Scripted:
        started.append(Scripted(script, tls))
        return started[-1]

    yield start
    for each in started:
        each.close()


def post(url: str, body: bytes = b'{"to": "x"}', timeout: float = 5.0, **options: Any) -> Request:
    return Request("POST", url, "webhook", timeout, {"Content-Type": "application/json"}, body, False, **options)


def run(steps: Callable[[Any], Any], client: str = "native", limit: int = 8) -> Any:
    async def go() -> Any:
        transport = open_transport(client, limit)
        try:
            return await steps(transport)
        finally:
            await transport.close()

    return uvloop.run(go())


def send(request: Request, client: str = "native") -> Answer:
    return run(lambda transport: transport.send(request), client)  # type: ignore[no-any-return]


# --- the exchange ------------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_a_post_goes_out_as_one_request_and_its_answer_comes_back(server, client):
    provider = server(serve_each(ok(b'{"id": "m-1"}', b"Retry-After: 7\r\nX-Two: a\r\nX-Two: b\r\n")))
    answer = send(post(provider.url("/hook?a=1")), client)
    assert (answer.status_code, answer.reason, answer.content, answer.truncated) == (200, "OK", b'{"id": "m-1"}', False)
    assert answer.headers.get("retry-after") == "7" and answer.headers.getall("x-two") == ["a", "b"]
    head, body = provider.requests[0]
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /hook?a=1 HTTP/1.1" and body == b'{"to": "x"}'
    names = [line.split(b":")[0].lower() for line in lines[1:]]
    assert names.count(b"content-length") == 1 and names.count(b"host") == 1
    assert b"Host: 127.0.0.1:%d" % provider.port in lines


def test_the_body_length_is_counted_never_taken_from_the_headers():
    target = target_of(post("http://127.0.0.1:9/x"))
    request = Request("POST", "http://127.0.0.1:9/x", "webhook", 1.0, {"Content-Length": "999"}, b"abc", False)
    head = request_head(request, target)
    assert head.count(b"Content-Length") == 1 and b"Content-Length: 3\r\n" in head
    assert b"Content-Length: 0" in request_head(
        Request("POST", "http://127.0.0.1:9/x", "w", 1.0, {}, None, False), target
    )
    assert b"Content-Length" not in request_head(Request("GET", "http://127.0.0.1:9/x", "w", 1.0), target)


@pytest.mark.parametrize("name", ["X Bad", "X:Bad", "X(1)", "Ä"])
@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_a_header_name_that_is_no_token_is_refused_before_anything_is_sent(server, client, name):
    provider = server(serve_each(ok()))
    request = Request("POST", provider.url(), "webhook", 2.0, {name: "v"}, b"x", False)
    with pytest.raises(InvalidPayload, match="header name"):
        send(request, client)
    assert provider.connections == 0


def test_head_is_refused_before_anything_is_sent(server):
    provider = server(serve_each(ok()))
    with pytest.raises(InvalidPayload, match="method 'HEAD'"):
        send(Request("HEAD", provider.url(), "webhook", 1.0, guarded=False))
    assert provider.connections == 0


def test_keep_alive_reuses_one_connection_for_sequential_sends(server):
    provider = server(serve_each(ok()))

    async def steps(transport: LoopTransport) -> list[int]:
        return [(await transport.send(post(provider.url()))).status_code for _ in range(5)]

    assert run(steps) == [200] * 5
    assert provider.connections == 1 and len(provider.requests) == 5


def test_concurrent_sends_each_get_their_own_answer(server):
    def script(peer: Peer) -> None:
        while (request := peer.read_request()) is not None:
            time.sleep(0.01)
            peer.send(ok(request[1]))

    provider = server(script)

    async def steps(transport: LoopTransport) -> list[bytes]:
        answers = await asyncio.gather(*(transport.send(post(provider.url(), b"job-%d" % i)) for i in range(40)))
        return [answer.content for answer in answers]

    assert run(steps, limit=16) == [b"job-%d" % i for i in range(40)]
    assert provider.connections <= 16


def test_a_connection_the_provider_closed_while_idle_is_never_used_again(server):
    def script(peer: Peer) -> None:  # one answer per connection, then the provider hangs up
        if peer.read_request() is not None:
            peer.send(ok())

    provider = server(script)

    async def steps(transport: LoopTransport) -> list[int]:
        first = await transport.send(post(provider.url()))
        await asyncio.sleep(0.2)  # the close reaches the client
        second = await transport.send(post(provider.url()))
        return [first.status_code, second.status_code]

    assert run(steps) == [200, 200]
    assert provider.connections == 2 and len(provider.requests) == 2


def test_connection_close_in_the_answer_is_honoured(server):
    provider = server(serve_each(ok(extra=b"Connection: close\r\n")))

    async def steps(transport: LoopTransport) -> None:
        for _ in range(3):
            await transport.send(post(provider.url()))

    run(steps)
    assert provider.connections == 3


def test_a_connection_dropped_before_the_answer_fails_retryable_and_is_not_resent(server):
    def script(peer: Peer) -> None:
        peer.read_request()  # received, then the provider dies

    provider = server(script)
    with pytest.raises(ProviderUnavailable, match="webhook: connection failed"):
        send(post(provider.url()))
    assert len(provider.requests) == 1


def test_an_answer_cut_mid_body_fails_retryable(server):
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok"')

    with pytest.raises(ProviderUnavailable, match="connection failed"):
        send(post(server(script).url()))


def test_an_answer_cut_mid_chunk_fails_retryable(server):
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")

    with pytest.raises(ProviderUnavailable, match="connection failed"):
        send(post(server(script).url()))


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_garbage_instead_of_http_fails_retryable(server, client):
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

    with pytest.raises(ProviderUnavailable, match="webhook: connection failed"):
        send(post(server(script).url()), client)


def test_chunked_answers_are_read_whole_and_the_connection_reused(server):
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n5\r\n: 1}\n\r\n0\r\n\r\n'
    provider = server(serve_each(chunked))

    async def steps(transport: LoopTransport) -> list[bytes]:
        return [(await transport.send(post(provider.url()))).content for _ in range(2)]

    assert run(steps) == [b'{"a": 1}\n'] * 2
    assert provider.connections == 1


def test_an_answer_framed_by_the_end_of_the_connection_is_read_whole(server):
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\naccepted id=7")

    answer = send(post(server(script).url()))
    assert (answer.status_code, answer.content) == (200, b"accepted id=7")


def test_an_interim_100_continue_is_skipped(server):
    provider = server(serve_each(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final")))
    answer = send(post(provider.url()))
    assert (answer.status_code, answer.content) == (200, b"final")


def test_an_upgrade_is_refused(server):
    provider = server(
        serve_each(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    )
    with pytest.raises(ProviderUnavailable):
        send(post(provider.url()))


def test_an_answer_without_a_body_status_204(server):
    provider = server(serve_each(b"HTTP/1.1 204 No Content\r\n\r\n"))

    async def steps(transport: LoopTransport) -> list[tuple[int, bytes]]:
        return [((a := await transport.send(post(provider.url()))).status_code, a.content) for _ in range(2)]

    assert run(steps) == [(204, b"")] * 2
    assert provider.connections == 1


# --- caps and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_a_long_answer_is_capped_and_flagged(server, client):
    provider = server(serve_each(ok(b"x" * 10_000)))
    answer = send(post(provider.url(), max_answer=100), client)
    assert (answer.content, answer.truncated) == (b"x" * 100, True)


def test_a_capped_answer_closes_its_connection(server):
    provider = server(serve_each(ok(b"x" * 10_000)))

    async def steps(transport: LoopTransport) -> None:
        for _ in range(2):
            await transport.send(post(provider.url(), max_answer=100))

    run(steps)
    assert provider.connections == 2


def test_a_zero_cap_reads_nothing_but_says_there_was_more(server):
    answer = send(post(server(serve_each(ok(b"abc"))).url(), max_answer=0))
    assert (answer.content, answer.truncated) == (b"", True)
    answer = send(post(server(serve_each(ok(b""))).url(), max_answer=0))
    assert (answer.content, answer.truncated) == (b"", False)


@pytest.mark.parametrize("client", ["native", "aiohttp"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_answers_are_decoded(server, client, encoding):
    body = b'{"message_id": "abc"}'
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    provider = server(serve_each(ok(packed, b"Content-Encoding: %s\r\n" % encoding.encode())))
    assert send(post(provider.url()), client).content == body


def test_raw_deflate_is_decoded_too(server):
    squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    packed = squeeze.compress(b"raw deflate") + squeeze.flush()
    provider = server(serve_each(ok(packed, b"Content-Encoding: deflate\r\n")))
    assert send(post(provider.url())).content == b"raw deflate"


def test_a_gzip_bomb_is_decoded_only_up_to_the_cap(server):
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB in ~50 KB
    provider = server(serve_each(ok(bomb, b"Content-Encoding: gzip\r\n")))
    answer = send(post(provider.url(), max_answer=1000))
    assert (len(answer.content), answer.truncated) == (1000, True)


def test_a_corrupt_gzip_answer_fails_retryable(server):
    provider = server(serve_each(ok(b"\x1f\x8b\x08\x00not gzip at all", b"Content-Encoding: gzip\r\n")))
    with pytest.raises(ProviderUnavailable, match="connection failed"):
        send(post(provider.url()))


# --- timeouts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_a_provider_that_never_answers_times_out(server, client):
    def script(peer: Peer) -> None:
        peer.read_request()
        time.sleep(3)

    started = time.monotonic()
    with pytest.raises(DeliveryTimeout, match="webhook: timed out"):
        send(post(server(script).url(), timeout=0.3), client)
    assert time.monotonic() - started < 2


def test_the_read_timeout_is_between_reads_not_for_the_whole_answer(server):
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":
            time.sleep(0.15)
            peer.send(bytes([byte]))

    assert send(post(server(script).url(), timeout=0.4)).content == b"abcdef"


def test_a_timed_out_connection_is_not_reused(server):
    def script(peer: Peer) -> None:
        while (request := peer.read_request()) is not None:
            if request[1] == b"one":
                time.sleep(0.8)  # answers the first request late
            peer.send(ok(request[1]))

    provider = server(script)

    async def steps(transport: LoopTransport) -> bytes:
        with pytest.raises(DeliveryTimeout):
            await transport.send(post(provider.url(), b"one", timeout=0.3))
        return (await transport.send(post(provider.url(), b"two", timeout=3))).content

    # the second send must not read the first one's late answer from a reused connection
    assert run(steps) == b"two"
    assert provider.connections == 2


def test_a_cancelled_send_closes_its_connection(server):
    hold = threading.Event()

    def script(peer: Peer) -> None:
        while (request := peer.read_request()) is not None:
            hold.wait(5)
            peer.send(ok(request[1]))

    provider = server(script)

    async def steps(transport: LoopTransport) -> bytes:
        task = asyncio.ensure_future(transport.send(post(provider.url(), b"cancelled")))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        hold.set()
        return (await transport.send(post(provider.url(), b"next"))).content

    assert run(steps) == b"next"  # from a new connection, which answered its own request
    assert provider.connections == 2


def test_a_closed_port_is_a_retryable_connection_failure():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnavailable, match="webhook: connection failed"):
        send(post(f"http://127.0.0.1:{port}/x"))


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    ca = make_ca(tmp_path)
    cert, key = ca.issue(tmp_path, "provider", ["localhost", "127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.path))
    return context


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_https_with_a_trusted_certificate_for_the_name(server, tls_server, client):
    provider = server(serve_each(ok(b"secure")), tls=tls_server)
    assert send(post(provider.url(scheme="https", host="localhost")), client).content == b"secure"
    assert send(post(provider.url(scheme="https")), client).content == b"secure"


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_https_with_an_untrusted_certificate_is_refused_permanently(server, tls_server, client, tmp_path, monkeypatch):
    provider = server(serve_each(ok()), tls=tls_server)
    (tmp_path / "other").mkdir()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(make_ca(tmp_path / "other").path))
    with pytest.raises(ProviderRejected, match="TLS certificate verification failed"):
        send(post(provider.url(scheme="https", host="localhost")), client)


def test_https_connections_are_kept_per_tls_name(server, tls_server):
    provider = server(serve_each(ok()), tls=tls_server)

    async def steps(transport: LoopTransport) -> None:
        for host in ("localhost", "127.0.0.1", "localhost", "127.0.0.1"):
            await transport.send(post(provider.url(scheme="https", host=host)))

    run(steps)
    assert provider.connections == 2


def test_plain_http_to_a_tls_port_fails_retryable(server, tls_server):
    provider = server(serve_each(ok()), tls=tls_server)
    with pytest.raises((ProviderUnavailable, DeliveryTimeout)):
        send(post(provider.url(), timeout=1.0))


def test_every_connection_goes_through_pythons_connect_so_the_network_guard_sees_it(server, monkeypatch):
    provider = server(serve_each(ok()))
    seen: list[Any] = []
    real = socket.socket.connect  # the guard of tests/conftest.py, itself a wrapper

    def connect(sock: socket.socket, address: Any) -> None:
        seen.append(address)
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    send(post(provider.url()))
    assert seen == [("127.0.0.1", provider.port)]
