"""APNs over HTTP/2 on httpx: token (ES256 JWT) or certificate authentication.

The hosts are settings (``APNS_ENDPOINT``, ``APNS_SANDBOX_ENDPOINT``). One
``httpx.Client(http2=True)`` per process and app, limited to one connection and kept open
across jobs (the in-process and concurrent classes reuse it; a forked work horse opens its own
and it ends with the job: a client inherited over a fork is dropped, never used or closed). The
tokens of a job are sent concurrently from a thread pool as multiplexed HTTP/2 streams: in the
channel's plan (:mod:`rq_ext.sansio`) the batch is one :class:`~rq_ext.sansio.Call` (aiohttp, the
event loop's transport, has no HTTP/2), its replies read in the plan. Per
token: 200 is sent (``apns-id``); 410 ``Unregistered`` and 400 ``BadDeviceToken`` mark it
invalid; 429, 5xx and transport errors are retryable; 403 ``ExpiredProviderToken`` drops the
shared JWT if it is old enough (retryable); other answers are permanent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from config import Settings
from errors import ConfigurationError
from rq_ext.sansio import Call, Plan
from tasks.push import apns_auth, outcome
from tasks.push.apns_message import apns_headers, apns_payload
from tasks.push.credentials import resolve_path
from tasks.push.message import Push
from tasks.push.token_cache import TokenCache
from wrappers.per_process import PerProcess

TIMEOUT = httpx.Timeout(15.0, connect=10.0)
_DEVICE_TOKEN = re.compile(r"^[0-9A-Fa-f]{32,200}$")

log = logging.getLogger(__name__)

# hpack/h2/httpx log headers (the JWT) and URLs (device tokens) at DEBUG/INFO.
for _name in ("httpx", "httpcore", "hpack", "h2"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class App:
    base_url: str
    topic: str | None
    team_id: str | None = None
    key_id: str | None = None
    key_path: Path | None = None
    cert_path: Path | None = None


#: One HTTP/2 client per app and process (a forked child forgets its parent's: closing one would
#: send a GOAWAY on the parent's connection).
_clients: PerProcess[App, httpx.Client] = PerProcess()


def app_of(config: dict[str, Any], settings: Settings) -> App:
    """The app a push config names: ``key`` + ``team_id`` + ``key_id`` (token) or ``cert``."""
    base_url = (settings.APNS_SANDBOX_ENDPOINT if config.get("sandbox") else settings.APNS_ENDPOINT).rstrip("/")
    topic = config.get("topic") or None
    if config.get("key"):
        if not (config.get("team_id") and config.get("key_id") and topic):
            raise ConfigurationError("apns token auth needs team_id, key_id and topic")
        key_path = resolve_path(config["key"], "apns.key")
        return App(base_url, topic, str(config["team_id"]), str(config["key_id"]), key_path=key_path)
    if config.get("cert"):
        return App(base_url, topic, cert_path=resolve_path(config["cert"], "apns.cert"))
    raise ConfigurationError("apns config needs 'key' (token auth) or 'cert' (certificate auth)")


def client_for(app: App) -> httpx.Client:
    return _clients.get(app, lambda: _new_client(app))


def _new_client(app: App) -> httpx.Client:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    verify = apns_auth.tls_context(app.cert_path)
    return httpx.Client(http2=True, verify=verify, timeout=TIMEOUT, limits=limits)


def reset_clients() -> None:
    for client in _clients.pop_all():
        client.close()


def auth_headers(app: App, cache: TokenCache) -> dict[str, str]:
    if app.key_path is None or app.team_id is None or app.key_id is None:
        return {}
    return {"authorization": f"bearer {apns_auth.provider_token(app.team_id, app.key_id, app.key_path, cache)}"}


@dataclass(frozen=True)
class Reply:
    """What APNs answered for one token: the status, ``reason``, ``apns-id``, ``retry-after`` and
    the provider token the request carried."""

    status: int
    reason: str = ""
    apns_id: str | None = None
    retry_after: str | None = None
    jwt: str = field(default="", repr=False)  # a bearer secret: never in a repr


def reply_of(response: httpx.Response) -> Reply:
    return Reply(
        response.status_code,
        reason_of(response),
        response.headers.get("apns-id"),
        response.headers.get("retry-after"),
        response.request.headers.get("authorization", "").removeprefix("bearer "),
    )


def reason_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))
    except ValueError:
        return ""


def classify(token: str, reply: Reply) -> outcome.TokenResult:
    """One token's result from APNs's answer (pure: an expired provider token is dropped by the
    caller, :func:`expired_jwt`)."""
    status = reply.status
    label = f"APNs {status} {reply.reason}".strip()
    if status == 200:
        return outcome.sent(token, reply.apns_id)
    if status == 410 or (status == 400 and reply.reason == "BadDeviceToken"):
        return outcome.invalid(token, label)
    if expired_jwt(reply):
        return outcome.failed(token, label, True)
    if status == 429 or status >= 500:
        retry_after = reply.retry_after or ""
        return outcome.failed(token, label, True, float(retry_after) if retry_after.isdigit() else None)
    return outcome.failed(token, label, False)


def expired_jwt(reply: Reply) -> bool:
    """Whether APNs refused the (token-auth) provider token as expired."""
    return reply.status == 403 and reply.reason == "ExpiredProviderToken" and bool(reply.jwt)


def post(app: App, token: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """One POST. A request whose connection broke before it was written whole (``WriteError``:
    APNs cannot have acted on it) is sent once more. Streams that a GOAWAY says were never
    processed are retried by httpcore itself; any other loss under a request (a reset, a read
    error) may come after APNs accepted it, so it is not resent here: the token fails retryably
    with that reason (a resend could show the patient the notification twice)."""
    url = f"{app.base_url}/3/device/{token}"
    try:
        return client_for(app).post(url, content=body, headers=headers)
    except httpx.WriteError as exc:
        log.warning("APNs: connection lost before a request was sent (%s); sending it once more", type(exc).__name__)
        return client_for(app).post(url, content=body, headers=headers)


def send_one(app: App, token: str, body: bytes, headers: dict[str, str]) -> Reply | outcome.TokenResult:
    """APNs's reply for one token, or the token's result when no reply came."""
    if not _DEVICE_TOKEN.match(token):
        return outcome.invalid(token, "APNs: not a hexadecimal device token")
    try:
        return reply_of(post(app, token, body, headers))
    except httpx.TimeoutException:
        return outcome.failed(token, "APNs: timed out", True)
    except httpx.TransportError as exc:
        permanent = "CERTIFICATE_VERIFY_FAILED" in str(exc)
        return outcome.failed(token, f"APNs: connection failed ({type(exc).__name__})", not permanent)


def send_all(app: App, tokens: list[str], body: bytes, headers: dict[str, str]) -> list[Reply | outcome.TokenResult]:
    """Every token's reply, the requests multiplexed over the app's one HTTP/2 connection from a
    thread pool (blocking: a :class:`~rq_ext.sansio.Call` of the plan)."""
    return outcome.send_all(tokens, lambda token: send_one(app, token, body, headers))


def forget_jwt(app: App, jwt: str, cache: TokenCache) -> None:
    """Drop the shared provider token APNs called expired (if old enough, :mod:`.apns_auth`)."""
    if app.key_path is not None:
        apns_auth.forget_token(str(app.team_id), str(app.key_id), app.key_path, jwt, cache)


def plan_send(push: Push, settings: Settings, connection: Any | None = None) -> Plan[list[outcome.TokenResult]]:
    """Send ``push`` to every token through APNs over one HTTP/2 connection: the provider token
    (shared through ``connection``, the job's Redis) and the batch are :class:`~rq_ext.sansio.Call`
    effects (httpx's HTTP/2 has no event-loop transport here), the replies read here."""
    config = push.config.get("apns")
    if not isinstance(config, dict):
        raise ConfigurationError("push config has no 'apns' section")
    app = app_of(config, settings)
    cache = TokenCache("apns", connection)
    auth: dict[str, str] = yield Call(auth_headers, (app, cache))
    headers = {**apns_headers(push, app.topic), **auth}
    replies: list[Reply | outcome.TokenResult] = yield Call(send_all, (app, push.tokens, apns_payload(push), headers))
    for jwt in dict.fromkeys(r.jwt for r in replies if isinstance(r, Reply) and expired_jwt(r)):
        yield Call(forget_jwt, (app, jwt, cache))
    return [classify(token, r) if isinstance(r, Reply) else r for token, r in zip(push.tokens, replies, strict=True)]
