"""A fake provider for I/O-bound jobs: an HTTP server on 127.0.0.1 that answers every request
``200 {"ok": true, "id": "msg-<n>"}`` (a webhook's answer; a JSON SMS gateway's acceptance)
after a fixed delay (50 ms), in its own process so that it never competes
for the worker's GIL. It serves any number of concurrent requests, keeps connections
alive, and counts requests and distinct client connections (``GET /__stats``, ``POST /__reset``).

The server is an asyncio ``Protocol`` on uvloop that reads a request head and a ``Content-Length``
body and answers with one write after ``delay`` (a timer, no task per request): about 15 us of CPU
per request. It replaced an aiohttp server (``--server aiohttp``, kept for comparison), which
cost ~150-250 us per request; requests that arrive together (a claimed batch) were answered one
after another, so the provider itself added 4-5 ms (p50) to each round trip at 64 in flight and
capped any client near 88 % of the ideal (docs/performance.md, "The fake provider"). Chunked
request bodies are not read (no client of the bench sends them): answered 501, connection closed.

Run by :class:`FakeProvider`; on its own: ``python -m bench.fake_provider --port 8080 --delay 0.05``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from bench.redis_server import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent


#: The answer's head up to its length; the JSON body follows.
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
NOT_IMPLEMENTED = b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Counters:
    def __init__(self) -> None:
        self.requests = 0
        self.peers: set[Any] = set()


class Hook(asyncio.Protocol):
    """One client connection: requests parsed as they arrive, each answered after ``delay``."""

    def __init__(self, counters: Counters, delay: float) -> None:
        self.counters = counters
        self.delay = delay
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.peer = transport.get_extra_info("peername")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (request := self.next_request()) is not None:
            self.dispatch(*request)

    def next_request(self) -> tuple[str, str, bool] | None:
        """(method, path, close) of the next whole request in the buffer, taken out of it."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        method, path = lines[0].decode("latin-1").split(" ")[:2]
        length, close, chunked = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                chunked = True
        if chunked:
            self.reply(NOT_IMPLEMENTED, close=True)
            self.buffer.clear()
            return None
        if len(self.buffer) < end + 4 + length:
            return None
        del self.buffer[: end + 4 + length]
        return method, path, close

    def dispatch(self, method: str, path: str, close: bool) -> None:
        counters = self.counters
        if path == "/__stats":
            self.reply(answer({"requests": counters.requests, "connections": len(counters.peers)}), close)
        elif path == "/__reset" and method == "POST":
            counters.requests, counters.peers = 0, set()
            self.reply(answer({"ok": True}), close)
        else:
            counters.requests += 1
            counters.peers.add(self.peer)  # the clients' connections (not one asking for stats)
            body = answer({"ok": True, "id": f"msg-{counters.requests}"})
            asyncio.get_running_loop().call_later(self.delay, self.reply, body, close)

    def reply(self, data: bytes, close: bool = False) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
            if close:
                self.transport.close()


def answer(document: dict[str, Any]) -> bytes:
    body = json.dumps(document).encode()
    return HEAD + str(len(body)).encode() + b"\r\n\r\n" + body


def serve(port: int, delay: float, server: str = "protocol") -> None:
    if server == "aiohttp":
        serve_aiohttp(port, delay)
        return
    import uvloop

    async def main() -> None:
        counters = Counters()
        loop = asyncio.get_running_loop()
        listening = await loop.create_server(lambda: Hook(counters, delay), "127.0.0.1", port, backlog=1024)
        async with listening:
            await listening.serve_forever()

    uvloop.run(main())


def serve_aiohttp(port: int, delay: float) -> None:
    """The provider as it was until 3 December 2026 (aiohttp's server on asyncio's own loop)."""
    from aiohttp import web

    counters: dict[str, Any] = {"requests": 0, "peers": set()}

    async def hook(request: web.Request) -> web.Response:
        counters["requests"] += 1
        counters["peers"].add(request.transport.get_extra_info("peername") if request.transport else None)
        await request.read()
        await asyncio.sleep(delay)
        return web.json_response({"ok": True, "id": f"msg-{counters['requests']}"})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": counters["requests"], "connections": len(counters["peers"])})

    async def reset(request: web.Request) -> web.Response:
        counters["requests"] = 0
        counters["peers"] = set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/__stats", stats)
    app.router.add_post("/__reset", reset)
    app.router.add_route("*", "/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=port, backlog=1024, print=None, access_log=None)


class FakeProvider:
    """``with FakeProvider(delay=0.05) as fake:`` runs the server in a subprocess; ``fake.url``."""

    def __init__(self, delay: float = 0.05, server: str = "protocol") -> None:
        self.delay = delay
        self.server = server
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/hook"

    def start(self) -> FakeProvider:
        cmd = [sys.executable, "-m", "bench.fake_provider", "--port", str(self.port), "--delay", str(self.delay)]
        cmd += ["--server", self.server]
        self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("fake provider did not start")

    def _call(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))

    def stats(self) -> dict[str, int]:
        """Requests served and distinct client connections since the last reset."""
        return {k: int(v) for k, v in self._call("GET", "/__stats").items()}

    def reset(self) -> None:
        self._call("POST", "/__reset")

    def stop(self) -> None:
        self.process = stop_process(self.process)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--server", choices=("protocol", "aiohttp"), default="protocol")
    options = parser.parse_args()
    serve(options.port, options.delay, options.server)
