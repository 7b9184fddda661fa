"""FCM HTTP v1 through pyfcm, with a google-auth service account.

One :class:`FusionFCM` per process and app (service account + project), sharing one connection
pool across the threads that send the tokens. pyfcm's own ``send_request`` sleeps on
``Retry-After`` and retries without limit, so it is replaced by a single attempt (plus pyfcm's
one retry on an expired access token); the answer is classified here per token:
``UNREGISTERED`` (404) and 400 ``INVALID_ARGUMENT`` about the token mark it invalid; 429 and 5xx
are retryable (``Retry-After`` kept); 401/403 and other 4xx are permanent. A 404 without
``UNREGISTERED`` (e.g. a wrong project) is a permanent failure, not an invalid token.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import service_account
from pyfcm import FCMNotification
from pyfcm.errors import FCMError
from requests.adapters import HTTPAdapter

from errors import ConfigurationError, ProviderUnavailable
from tasks.push import outcome
from tasks.push.credentials import fingerprint, service_account_info
from tasks.push.fcm_message import fcm_kwargs
from tasks.push.message import Push
from wrappers import http
from wrappers.masking import mask_text
from wrappers.ssrf import check_url

SCOPES = ["https://www.googleapis.com/auth/firebase.messaging"]
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
TIMEOUT = 15.0

_apps: dict[tuple[int, str], FusionFCM] = {}
_lock = threading.Lock()


class FusionFCM(FCMNotification):
    """pyfcm's client with one token refresh at a time and no sleeping retries."""

    def __init__(self, credentials: service_account.Credentials, project_id: str | None) -> None:
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=outcome.MAX_THREADS, max_retries=0)
        super().__init__(credentials=credentials, project_id=project_id, adapter=adapter)
        self._token_lock = threading.Lock()

    def _get_access_token(self) -> str:
        with self._token_lock:
            if not self.credentials.valid:
                try:
                    self.credentials.refresh(google.auth.transport.requests.Request())
                except google.auth.exceptions.RefreshError as exc:
                    if getattr(exc, "retryable", False):
                        raise ProviderUnavailable("FCM: OAuth token refresh failed (retryable)") from exc
                    raise ConfigurationError("FCM: OAuth token refused for the service account") from exc
                except google.auth.exceptions.TransportError as exc:
                    raise ProviderUnavailable("FCM: OAuth token endpoint unreachable") from exc
            return str(self.credentials.token)

    def send_request(self, payload: Any = None, timeout: Any = None) -> requests.Response:
        response = self.requests_session.post(self.fcm_end_point, data=payload, timeout=timeout)
        if self._is_access_token_expired(response):
            self.thread_local.token_expiry = 0
            response = self.requests_session.post(self.fcm_end_point, data=payload, timeout=timeout)
        return response


def check_token_uri(info: dict[str, Any]) -> None:
    """A service account may name any OAuth endpoint: anything but Google's passes the SSRF guard."""
    token_uri = str(info.get("token_uri") or GOOGLE_TOKEN_URI)
    if token_uri != GOOGLE_TOKEN_URI:
        check_url(token_uri)


def app_for(config: dict[str, Any]) -> FusionFCM:
    """The cached client for ``config = {"service_account": path | JSON, "project_id": ...}``."""
    info = service_account_info(config.get("service_account"))
    check_token_uri(info)
    project_id = config.get("project_id") or info.get("project_id")
    key = (os.getpid(), fingerprint(info, project_id))
    with _lock:
        if key not in _apps:
            try:
                credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            except (ValueError, KeyError) as exc:
                raise ConfigurationError(f"fcm.service_account is unusable ({type(exc).__name__})") from None
            if len(_apps) > 32:
                _apps.clear()
            _apps[key] = FusionFCM(credentials, project_id)
        return _apps[key]


def reset_apps() -> None:
    with _lock:
        _apps.clear()


def error_of(response: requests.Response) -> tuple[str, str, str]:
    """``(status, errorCode, message)`` of an FCM v1 error body (empty strings when absent)."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return "", "", ""
    codes = [d.get("errorCode", "") for d in error.get("details", []) if isinstance(d, dict)]
    return str(error.get("status", "")), next((c for c in codes if c), ""), str(error.get("message", ""))


def classify(token: str, response: requests.Response) -> outcome.TokenResult:
    """One token's result from FCM's answer."""
    status = response.status_code
    if status == 200:
        return outcome.sent(token, str(response.json().get("name", "")))
    state, code, message = error_of(response)
    label = f"FCM {status} {code or state}".strip()
    if code == "UNREGISTERED":
        return outcome.invalid(token, label)
    if status == 400 and (code or state) == "INVALID_ARGUMENT" and "token" in message.lower():
        return outcome.invalid(token, label)
    if status == 429 or status >= 500:
        return outcome.failed(token, label, True, http.retry_after(response))
    return outcome.failed(token, f"{label}: {mask_text(message)[:200]}".rstrip(": "), False)


def send_one(app: FusionFCM, push: Push, token: str) -> outcome.TokenResult:
    try:
        payload = app.parse_payload(fcm_token=token, **fcm_kwargs(push))
        return classify(token, app.send_request(payload, TIMEOUT))
    except requests.Timeout:
        return outcome.failed(token, "FCM: timed out", True)
    except requests.RequestException as exc:
        return outcome.failed(token, f"FCM: connection failed ({type(exc).__name__})", True)
    except (ProviderUnavailable, ConfigurationError) as exc:
        return outcome.from_error(token, exc)


def send(push: Push) -> list[outcome.TokenResult]:
    """Send ``push`` to every token through FCM (the access token is fetched once, up front)."""
    config = push.config.get("fcm")
    if not isinstance(config, dict):
        raise ConfigurationError("push config has no 'fcm' section")
    app = app_for(config)
    try:
        _ = app.fcm_end_point
        app._get_access_token()
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"FCM: OAuth token endpoint failed ({type(exc).__name__})") from exc
    except FCMError as exc:
        raise ConfigurationError(f"FCM: {type(exc).__name__}: {mask_text(str(exc))[:200]}") from exc
    return outcome.send_all(push.tokens, lambda token: send_one(app, push, token))
