"""FCM HTTP v1 through pyfcm, with a google-auth service account.

The send endpoint is ``FCM_ENDPOINT`` (``<endpoint>/v1/projects/<project>/messages:send``), the
OAuth token endpoint ``FCM_OAUTH_TOKEN_URI`` (:mod:`.fcm_auth`). One :class:`FusionFCM` per
process and app (service account + project + endpoints), sharing one connection pool across the
threads that send the tokens and, in the in-process and concurrent classes, across jobs (a
forked work horse builds its own; an app inherited over a fork is dropped, never used). The
access token is shared by every worker process (:mod:`.token_cache`) and handed to each request.

pyfcm builds the message; its ``send_request`` would sleep on ``Retry-After`` and retry without
limit, so each token gets a single attempt (plus one retry with a new access token after
``401 ACCESS_TOKEN_EXPIRED``), classified per token by :mod:`.fcm_errors`.
"""

from __future__ import annotations

from typing import Any

import requests
from google.oauth2 import service_account
from pyfcm import FCMNotification
from pyfcm.errors import FCMError
from requests.adapters import HTTPAdapter

from config import Settings
from errors import ConfigurationError, FusionError
from tasks.push import fcm_auth, fcm_errors, outcome
from tasks.push.credentials import fingerprint, service_account_info
from tasks.push.fcm_message import fcm_kwargs
from tasks.push.message import Push
from tasks.push.token_cache import TokenCache
from wrappers import http
from wrappers.masking import mask_text
from wrappers.per_process import PerProcess

TIMEOUT = 15.0

#: One client per credential and process (a forked child forgets its parent's, whose connection
#: pools share their sockets with it).
_apps: PerProcess[str, FusionFCM] = PerProcess(cap=33)


class FusionFCM(FCMNotification):
    """pyfcm's client aimed at ``endpoint``, with the access token handed in per request."""

    def __init__(
        self, credentials: service_account.Credentials, project_id: str | None, endpoint: str, account: str
    ) -> None:
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=outcome.MAX_THREADS, max_retries=0)
        super().__init__(credentials=credentials, project_id=project_id, adapter=adapter)
        self.FCM_END_POINT_BASE = f"{endpoint.rstrip('/')}/v1/projects"
        #: The shared access token's fingerprint (:func:`fcm_auth.account_fingerprint`).
        self.account = account

    def request_headers(self) -> dict[str, str]:
        """The session's headers: no token (pyfcm would fetch one per thread; it goes per request)."""
        return {"Content-Type": "application/json"}

    def access_token(self, cache: TokenCache) -> str:
        return cache.get(self.account, lambda now: fcm_auth.grant(self.credentials, now)).value

    def post(self, payload: Any, access_token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self.requests_session.post(self.fcm_end_point, data=payload, timeout=TIMEOUT, headers=headers)


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


def answer_of(response: requests.Response) -> fcm_errors.FcmAnswer:
    try:
        body = response.json()
    except ValueError:
        body = None
    return fcm_errors.parse(response.status_code, body)


def classify(token: str, response: requests.Response) -> outcome.TokenResult:
    """One token's result from FCM's answer."""
    if response.status_code == 200:
        return outcome.sent(token, str(response.json().get("name", "")))
    answer = answer_of(response)
    label = answer.label()
    if answer.token_is_invalid:
        return outcome.invalid(token, label)
    if answer.retryable:
        return outcome.failed(token, label, True, http.retry_after(response))
    return outcome.failed(token, f"{label}: {mask_text(answer.message)[:200]}".rstrip(": "), False)


def deliver(app: FusionFCM, payload: Any, cache: TokenCache, access_token: str) -> requests.Response:
    """One attempt; after ``401 ACCESS_TOKEN_EXPIRED`` one more with a new access token."""
    response = app.post(payload, access_token)
    if app._is_access_token_expired(response):
        cache.forget(app.account, access_token)
        response = app.post(payload, app.access_token(cache))
    return response


def send_one(app: FusionFCM, push: Push, token: str, cache: TokenCache, access_token: str) -> outcome.TokenResult:
    try:
        payload = app.parse_payload(fcm_token=token, **fcm_kwargs(push))
        return classify(token, deliver(app, payload, cache, access_token))
    except requests.Timeout:
        return outcome.failed(token, "FCM: timed out", True)
    except requests.RequestException as exc:
        return outcome.failed(token, f"FCM: connection failed ({type(exc).__name__})", True)
    except FusionError as exc:
        return outcome.from_error(token, exc)


def send(push: Push, settings: Settings, connection: Any | None = None) -> list[outcome.TokenResult]:
    """Send ``push`` to every token through FCM; the access token is shared through
    ``connection`` (the job's Redis) and fetched once, up front."""
    config = push.config.get("fcm")
    if not isinstance(config, dict):
        raise ConfigurationError("push config has no 'fcm' section")
    app = app_for(config, settings)
    cache = TokenCache("fcm", connection)
    try:
        _ = app.fcm_end_point
    except FCMError as exc:
        raise ConfigurationError(f"FCM: {type(exc).__name__}: {mask_text(str(exc))[:200]}") from exc
    access_token = app.access_token(cache)
    return outcome.send_all(push.tokens, lambda token: send_one(app, push, token, cache, access_token))
