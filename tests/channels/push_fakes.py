"""Local stand-ins for FCM (OAuth token endpoint + HTTP v1 send) and APNs (HTTP/2 over TLS)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypercorn.asyncio import serve
from hypercorn.config import Config
from werkzeug import Request, Response

ACCESS_TOKEN = "ya29.fake-access-token-0123456789"
PROJECT = "test-proj"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def fcm_error(status: int, code: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    """An FCM v1 error body: ``error.status`` is the canonical code, ``details`` as given."""
    return {"error": {"code": status, "message": message, "status": code, "details": list(details)}}


def fcm_code(code: str) -> dict[str, Any]:
    return {"@type": FCM_ERROR, "errorCode": code}


def bad_request(field: str, description: str) -> dict[str, Any]:
    return {"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": description}]}


def service_account(token_uri: str) -> tuple[dict[str, Any], rsa.RSAPublicKey]:
    """A generated Google service account whose token_uri is local; and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": f"fusion@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    return info, key.public_key()


Answer = tuple[int, dict[str, Any], dict[str, str]]


class FakeFCM:
    """Answers per token: ``answers[token] = (status, errorCode, message, headers)`` or, for a
    whole error body, ``bodies[token] = (status, body)``; default 200. The first OAuth grant
    gives ``ACCESS_TOKEN``, later ones ``ACCESS_TOKEN-<n>``; a request carrying a token in
    ``expired`` gets 401 ``ACCESS_TOKEN_EXPIRED``. Records sends (with the client's port: one
    port is one connection) and grants. Served by pytest-httpserver (``token``/``send``
    handlers; werkzeug closes every connection) or, with keep-alive, as an ASGI app."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, str, dict[str, str]]] = {}
        self.bodies: dict[str, tuple[int, dict[str, Any]]] = {}
        self.expired: set[str] = set()
        self.sends: list[dict[str, Any]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_status = 200
        self.lock = threading.Lock()

    def grant(self, form_text: str) -> Answer:
        form = {k: v[0] for k, v in parse_qs(form_text).items()}
        with self.lock:
            self.token_requests.append(form)
            count = len(self.token_requests)
        if self.token_status != 200:
            return self.token_status, {"error": "invalid_grant"}, {}
        access = ACCESS_TOKEN if count == 1 else f"{ACCESS_TOKEN}-{count}"
        return 200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer"}, {}

    def deliver(self, headers: dict[str, str], data: bytes, port: Any) -> Answer:
        message = json.loads(data)
        with self.lock:
            self.sends.append({"headers": headers, "body": message, "port": port})
            count = len(self.sends)
        authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if authorization.removeprefix("Bearer ") in self.expired:
            return 401, fcm_error(401, "UNAUTHENTICATED", "expired", {"reason": "ACCESS_TOKEN_EXPIRED"}), {}
        token = message["message"].get("token", "")
        if token in self.bodies:
            return (*self.bodies[token], {})
        status, code, text, extra = self.answers.get(token, (200, "", "", {}))
        if status == 200:
            return 200, {"name": f"projects/{PROJECT}/messages/0:{count}"}, {}
        detail = [fcm_code(code)] if code else []
        return status, fcm_error(status, code or "ERROR", text, *detail), extra

    # -- pytest-httpserver handlers ----------------------------------------------------------

    def token(self, request: Request) -> Response:
        return self.response(self.grant(request.get_data(as_text=True)))

    def send(self, request: Request) -> Response:
        return self.response(
            self.deliver(dict(request.headers), request.get_data(), request.environ.get("REMOTE_PORT"))
        )

    @staticmethod
    def response(answer: Answer) -> Response:
        status, body, headers = answer
        return Response(json.dumps(body), status, headers=headers, content_type="application/json")

    # -- ASGI (hypercorn: keep-alive connections) ---------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        data = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/token":
            answer = self.grant(data.decode())
        elif scope["path"] == f"/v1/projects/{PROJECT}/messages:send":
            answer = self.deliver(headers, data, scope["client"][1])
        else:
            answer = (404, {"error": "not found"}, {})
        status, body, extra = answer
        out = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def lifespan(receive: Any, send: Any) -> None:
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


@dataclass
class FakeAPNs:
    """An ASGI app answering like APNs: ``answers[token] = (status, reason)``; records every request."""

    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        await asyncio.sleep(self.delay)
        token = scope["path"].rsplit("/", 1)[-1]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(
            {
                "path": scope["path"],
                "headers": headers,
                "body": body,
                "http_version": scope["http_version"],
                "client": tuple(scope["client"]),
            }
        )
        status, reason = self.answers.get(token, (200, ""))
        out = json.dumps({"reason": reason}).encode() if reason else b""
        response_headers = [(b"apns-id", f"apns-{len(self.requests)}".encode())]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": out})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HypercornThread:
    """Serve an ASGI app with hypercorn over TLS (h2 via ALPN) in a background thread."""

    def __init__(self, app: Any, cert: Path, key: Path, client_ca: Path | None = None) -> None:
        self.port = free_port()
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.certfile, config.keyfile = str(cert), str(key)
        config.accesslog = config.errorlog = None
        # A client's connection is cached across tests: the server must not close it as idle
        # (hypercorn's 5 s default) while a test's requests are on it.
        config.keep_alive_timeout = 3600
        if client_ca is not None:
            config.ca_certs = str(client_ca)
            config.verify_mode = ssl.CERT_REQUIRED
        self.loop = asyncio.new_event_loop()
        self.stopped = asyncio.Event()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(serve(app, config, shutdown_trigger=self.stopped.wait),),  # type: ignore[arg-type]
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> HypercornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("hypercorn did not start")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopped.set)
        self.thread.join(timeout=5)
