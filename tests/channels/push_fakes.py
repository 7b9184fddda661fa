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


class FakeFCM:
    """Answers per token: ``answers[token] = (status, errorCode, message, headers)``; default 200."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, str, dict[str, str]]] = {}
        self.sends: list[dict[str, Any]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_status = 200

    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        self.token_requests.append(form)
        if self.token_status != 200:
            return Response(json.dumps({"error": "invalid_grant"}), self.token_status, content_type="application/json")
        body = {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
        return Response(json.dumps(body), content_type="application/json")

    def send(self, request: Request) -> Response:
        message = json.loads(request.get_data())
        self.sends.append({"headers": dict(request.headers), "body": message})
        token = message["message"].get("token", "")
        status, code, text, headers = self.answers.get(token, (200, "", "", {}))
        if status == 200:
            return Response(json.dumps({"name": f"projects/{PROJECT}/messages/0:{len(self.sends)}"}), 200)
        detail = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}] if code else []
        error = {"error": {"code": status, "message": text, "status": code or "ERROR", "details": detail}}
        return Response(json.dumps(error), status, headers=headers, content_type="application/json")


@dataclass
class FakeAPNs:
    """An ASGI app answering like APNs: ``answers[token] = (status, reason)``; records every request."""

    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
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
