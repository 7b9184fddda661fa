"""APNs authentication: provider tokens (ES256 JWT from a ``.p8`` key) and client-certificate TLS.

A provider token is cached per (team, key) and reused for its lifetime: Apple accepts a token
for one hour and refuses refreshes more often than every 20 minutes, so it is renewed after
:data:`REFRESH_AFTER` (50 min), or at once after APNs answered ``ExpiredProviderToken``.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from errors import ConfigurationError

REFRESH_AFTER = 50 * 60


@dataclass(frozen=True)
class ProviderToken:
    token: str
    issued_at: float


_tokens: dict[tuple[str, str, str], ProviderToken] = {}
_lock = threading.Lock()


def signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of an APNs ``.p8`` file."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigurationError(f"apns.key {path.name!r} is not a PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigurationError(f"apns.key {path.name!r} is not an ES256 (P-256) key")
    return key


def provider_token(team_id: str, key_id: str, key_path: Path, now: float | None = None) -> str:
    """The cached JWT for (team, key), signed anew once it is :data:`REFRESH_AFTER` old."""
    now = time.time() if now is None else now
    cache_key = (team_id, key_id, str(key_path))
    with _lock:
        cached = _tokens.get(cache_key)
        if cached is not None and 0 <= now - cached.issued_at < REFRESH_AFTER:
            return cached.token
        claims = {"iss": team_id, "iat": int(now)}
        token = jwt.encode(claims, signing_key(key_path), algorithm="ES256", headers={"kid": key_id})
        _tokens[cache_key] = ProviderToken(token, now)
        return token


def forget_token(team_id: str, key_id: str, key_path: Path) -> None:
    """Drop a token APNs refused, so the next send signs a fresh one."""
    with _lock:
        _tokens.pop((team_id, key_id, str(key_path)), None)


def reset_tokens() -> None:
    with _lock:
        _tokens.clear()


def tls_context(cert_path: Path | None) -> ssl.SSLContext:
    """Verifying TLS context (system CAs); with the client certificate (.pem, cert + key) if given."""
    context = ssl.create_default_context()
    if cert_path is not None:
        try:
            context.load_cert_chain(str(cert_path))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"apns.cert {cert_path.name!r} cannot be loaded ({type(exc).__name__})") from None
    return context
