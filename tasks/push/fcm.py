"""FCM HTTP v1 as a plan (:mod:`rq_ext.sansio`), with a google-auth service account.

The send endpoint is ``FCM_ENDPOINT`` (``<endpoint>/v1/projects/<project>/messages:send``), the
OAuth token endpoint ``FCM_OAUTH_TOKEN_URI`` (:mod:`.fcm_auth`): both are settings, so the sends
are unguarded requests (no SSRF guard, as for every provider's own URL). Each token's send is a
:class:`~wrappers.transport.Request` effect: urllib3 on a thread, aiohttp on the event loop. One
:class:`FusionFCM` per process and app (service account + project + endpoints) holds the
credentials and builds the message (pyfcm's ``parse_payload``); the access token is shared by
every worker process (:mod:`.token_cache`), fetched once per job in a
:class:`~rq_ext.sansio.Call` (an OAuth grant, a Redis read) and handed to each request.

Each token gets a single attempt (plus one with a new access token after
``401 ACCESS_TOKEN_EXPIRED``; no sleeping on ``Retry-After``), classified per token by
:mod:`.fcm_errors`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.oauth2 import service_account
from pyfcm import FCMNotification
from pyfcm.errors import FCMError

from config import Settings
from errors import ConfigurationError, DeliveryTimeout, FusionError
from rq_ext import sansio
from rq_ext.sansio import Call, Plan
from tasks.push import fcm_auth, fcm_errors, outcome
from tasks.push.credentials import fingerprint, service_account_info
from tasks.push.fcm_message import fcm_kwargs
from tasks.push.message import Push
from tasks.push.outcome import TokenResult
from tasks.push.token_cache import TokenCache
from wrappers import http
from wrappers.masking import mask_text
from wrappers.per_process import PerProcess
from wrappers.transport import Answer, Request

TIMEOUT = 15.0
#: Who the requests name in their errors (``FCM: timed out``).
WHAT = "FCM"
EXPIRED = "ACCESS_TOKEN_EXPIRED"

#: One client per credential and process (a forked child builds its own).
_apps: PerProcess[str, FusionFCM] = PerProcess(cap=33)


class FusionFCM(FCMNotification):
    """pyfcm's client aimed at ``endpoint``: the credentials and the message; it sends nothing
    itself (the requests are effects of the plan)."""

    def __init__(
        self, credentials: service_account.Credentials, project_id: str | None, endpoint: str, account: str
    ) -> None:
        super().__init__(credentials=credentials, project_id=project_id)
        self.FCM_END_POINT_BASE = f"{endpoint.rstrip('/')}/v1/projects"
        #: The shared access token's fingerprint (:func:`fcm_auth.account_fingerprint`).
        self.account = account

    def access_token(self, cache: TokenCache) -> str:
        return cache.get(self.account, lambda now: fcm_auth.grant(self.credentials, now)).value

    def renewed_token(self, cache: TokenCache, refused: str) -> str:
        """A new access token after FCM called ``refused`` expired."""
        cache.forget(self.account, refused)
        return self.access_token(cache)


@dataclass(frozen=True)
class Session:
    """What a job's sends share: the client, its endpoint, the token cache, the access token."""

    app: FusionFCM
    url: str
    cache: TokenCache
    access_token: str = field(repr=False)  # a bearer secret: never in a repr


def app_for(config: dict[str, Any], settings: Settings) -> FusionFCM:
    """The cached client for ``config = {"service_account": path | JSON, "project_id": ...}``."""
    info = service_account_info(config.get("service_account"))
    project_id = config.get("project_id") or info.get("project_id")
    token_uri = settings.FCM_OAUTH_TOKEN_URI
    key = fingerprint(info, project_id, token_uri, settings.FCM_ENDPOINT)  # in memory only

    def make() -> FusionFCM:
        credentials = fcm_auth.credentials_of(info, token_uri)
        account = fcm_auth.account_fingerprint(info, token_uri)
        return FusionFCM(credentials, project_id, settings.FCM_ENDPOINT, account)

    return _apps.get(key, make)


def reset_apps() -> None:
    _apps.pop_all()


def open_session(config: dict[str, Any], settings: Settings, connection: Any | None) -> Session:
    """The client, its endpoint and the shared access token (blocking: a file, a grant, Redis)."""
    app = app_for(config, settings)
    try:
        url = app.fcm_end_point
    except FCMError as exc:
        raise ConfigurationError(f"FCM: {type(exc).__name__}: {mask_text(str(exc))[:200]}") from exc
    cache = TokenCache("fcm", connection)
    return Session(app, url, cache, app.access_token(cache))


def request(session: Session, payload: bytes, access_token: str) -> Request:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access_token}"}
    return Request("POST", session.url, WHAT, TIMEOUT, headers, payload, guarded=False)


def body_of(answer: Answer) -> Any:
    try:
        return json.loads(answer.content)
    except ValueError:
        return None


def token_expired(answer: Answer) -> bool:
    """Whether FCM refused the access token as expired (``401`` with ``ACCESS_TOKEN_EXPIRED``)."""
    if answer.status_code != 401:
        return False
    error = body_of(answer)
    error = error.get("error") if isinstance(error, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return isinstance(details, list) and any(isinstance(d, dict) and d.get("reason") == EXPIRED for d in details)


def classify(token: str, answer: Answer) -> TokenResult:
    """One token's result from FCM's answer."""
    body = body_of(answer)
    if answer.status_code == 200:
        return outcome.sent(token, str(body.get("name", "")) if isinstance(body, dict) else "")
    error = fcm_errors.parse(answer.status_code, body)
    label = error.label()
    if error.token_is_invalid:
        return outcome.invalid(token, label)
    if error.retryable:
        return outcome.failed(token, label, True, http.retry_after(answer))
    return outcome.failed(token, f"{label}: {mask_text(error.message)[:200]}".rstrip(": "), False)


def lost(token: str, error: FusionError) -> TokenResult:
    """A token whose request failed in the transport: retryable (the answer never came)."""
    if isinstance(error, DeliveryTimeout):
        return outcome.failed(token, f"{WHAT}: timed out", True)
    return outcome.failed(token, str(error), True)


def plan_request(session: Session, payload: bytes, token: str, access_token: str) -> Plan[Answer | TokenResult]:
    """One request: FCM's answer, or the token's result when the transport failed."""
    try:
        answer: Answer = yield request(session, payload, access_token)
    except FusionError as exc:
        return lost(token, exc)
    return answer


def plan_deliver(session: Session, payload: bytes, token: str) -> Plan[TokenResult]:
    """One attempt; after ``401 ACCESS_TOKEN_EXPIRED`` one more with a new access token."""
    reply = yield from plan_request(session, payload, token, session.access_token)
    if isinstance(reply, Answer) and token_expired(reply):
        renewed: str = yield Call(session.app.renewed_token, (session.cache, session.access_token))
        reply = yield from plan_request(session, payload, token, renewed)
    return classify(token, reply) if isinstance(reply, Answer) else reply


def plan_one(session: Session, push: Push, token: str) -> Plan[TokenResult]:
    try:
        payload: bytes = session.app.parse_payload(fcm_token=token, **fcm_kwargs(push))
        result: TokenResult = yield from plan_deliver(session, payload, token)
    except FusionError as exc:
        return outcome.from_error(token, exc)
    return result


def plan_send(push: Push, settings: Settings, connection: Any | None = None) -> Plan[list[TokenResult]]:
    """Send ``push`` to every token through FCM, up to ``MAX_THREADS`` requests at once (threads,
    or tasks of the event loop); the access token is shared through ``connection`` (the job's
    Redis) and fetched once, up front."""
    config = push.config.get("fcm")
    if not isinstance(config, dict):
        raise ConfigurationError("push config has no 'fcm' section")
    session: Session = yield Call(open_session, (config, settings, connection))
    plans = [plan_one(session, push, token) for token in push.tokens]
    results: list[TokenResult] = yield from sansio.together(plans, outcome.MAX_THREADS)
    return results
