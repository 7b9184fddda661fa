"""FCM's OAuth access token: a google-auth service-account grant, shared by every worker
process through :mod:`.token_cache` (one grant per account per hour, on every worker class).

The grant goes to ``FCM_OAUTH_TOKEN_URI`` (Google's by default; a proxy or a test's server),
whatever the service account's own ``token_uri`` says, so a payload-supplied account cannot
make the worker post a signed grant anywhere else. The assertion's audience stays Google's
token endpoint (google-auth's constant). A token is renewed :data:`EARLY_REFRESH` seconds before
it expires, or when FCM answers ``401 ACCESS_TOKEN_EXPIRED``.
"""

from __future__ import annotations

import datetime
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
from google.oauth2 import service_account

from errors import ConfigurationError, ProviderUnavailable
from tasks.push.credentials import fingerprint
from tasks.push.token_cache import Token

SCOPES = ["https://www.googleapis.com/auth/firebase.messaging"]
EARLY_REFRESH = 300.0
#: Assumed lifetime when the token endpoint gives no ``expires_in``.
DEFAULT_LIFETIME = 3600.0


def credentials_of(info: dict[str, Any], token_uri: str) -> service_account.Credentials:
    """google-auth credentials of a service account, granted by ``token_uri``."""
    try:
        return service_account.Credentials.from_service_account_info(dict(info, token_uri=token_uri), scopes=SCOPES)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"fcm.service_account is unusable ({type(exc).__name__})") from None


def account_fingerprint(info: dict[str, Any], token_uri: str) -> str:
    """The shared token's key: account e-mail, private key id, token endpoint, scopes."""
    return fingerprint("fcm", info.get("client_email"), info.get("private_key_id"), token_uri, SCOPES)


def _expires_at(credentials: service_account.Credentials, now: float) -> float:
    expiry = credentials.expiry  # naive UTC
    if not isinstance(expiry, datetime.datetime):
        return now + DEFAULT_LIFETIME
    return expiry.replace(tzinfo=datetime.UTC).timestamp()


def grant(credentials: service_account.Credentials, now: float) -> Token:
    """A new access token from the token endpoint (one OAuth grant)."""
    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.RefreshError as exc:
        if getattr(exc, "retryable", False):
            raise ProviderUnavailable("FCM: OAuth token refresh failed (retryable)") from exc
        raise ConfigurationError("FCM: OAuth token refused for the service account") from exc
    except google.auth.exceptions.TransportError as exc:
        raise ProviderUnavailable("FCM: OAuth token endpoint unreachable") from exc
    refresh_at = max(now + 1.0, _expires_at(credentials, now) - EARLY_REFRESH)
    return Token(str(credentials.token), now, refresh_at)
