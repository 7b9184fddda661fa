"""Real HTTP servers on loopback for the fault tests: a provider (the webhook target) that
records every send and can hold or slow requests, a callback receiver, and a ``/retryTask/``
server. They live in the test process, so they outlive every worker the tests kill."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class Recorder(ThreadingHTTPServer):
    """Answers every POST after ``latency`` (a (low, high) range in seconds) with ``status``;
    records (path, body, headers). ``hold`` (an Event) blocks answers until set; ``statuses`` can
    give the first N answers another status."""

    daemon_threads = True
    #: A real provider's listen backlog (socketserver's default of 5 drops connections opened at
    #: once by a worker with dozens of slots, which then wait seconds for a SYN retransmit).
    request_queue_size = 1024

    def __init__(self, latency: tuple[float, float] = (0.0, 0.0), status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.status = status
        self.first_statuses: list[int] = []
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests.append((path, body, headers))
            status = self.first_statuses.pop(0) if self.first_statuses else self.status
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(60)
        low, high = self.latency
        if high:
            time.sleep(random.uniform(low, high))
        return status

    # -- what was received -------------------------------------------------------------------

    def jobs_sent(self) -> Counter[str]:
        """Webhook sends per job (the body names its job)."""
        with self.lock:
            return Counter(json.loads(body)["job"] for path, body, _ in self.requests if path == "/send")

    def callbacks(self) -> list[dict[str, Any]]:
        with self.lock:
            found = []
            for path, body, headers in self.requests:
                if path == "/done" or path == "/failed":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    found.append({**form, "path": path, "key": headers.get("Idempotency-Key", "")})
            return found

    def handovers(self) -> list[tuple[list[Any], str]]:
        with self.lock:
            return [
                (json.loads(body), h.get("Idempotency-Key", "")) for p, body, h in self.requests if p == "/retryTask/"
            ]

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: Recorder
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status = self.server.answer(self.path, body, dict(self.headers))
        payload = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def webhook_task(provider: Recorder, name: str) -> dict[str, Any]:
    return {"payload": {"task": 4, "url": provider.url + "/send", "method": "POST", "body": json.dumps({"job": name})}}
