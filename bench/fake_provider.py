"""A fake provider for I/O-bound jobs: an HTTP server on 127.0.0.1 that answers every request
``200 {"ok": true, "id": "msg-<n>"}`` (a webhook's answer; a JSON SMS gateway's acceptance)
after a fixed delay (50 ms), in its own process so that it never competes
for the worker's GIL. It serves any number of concurrent requests (asyncio), keeps connections
alive, and counts requests and distinct client connections (``GET /__stats``, ``POST /__reset``).

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
from typing import Any

from bench.redis_server import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent


def serve(port: int, delay: float) -> None:
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

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
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
    options = parser.parse_args()
    serve(options.port, options.delay)
