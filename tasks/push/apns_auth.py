"""APNs authentication: provider tokens (ES256 JWT from a ``.p8`` key) and client-certificate TLS.

Apple accepts a provider token for an hour, answers ``429 TooManyProviderTokenUpdates`` when a
key's token changes more often than every 20 minutes, and wants connections kept open. So one
token per key is shared by every worker process (:mod:`.token_cache`): signed at most once per
:data:`REFRESH_AFTER` (50 min), and dropped after ``403 ExpiredProviderToken`` only when it is
older than :data:`MIN_REFRESH_INTERVAL` (20 min); a younger one is kept (the send is retried).
"""

from __future__ import annotations

import functools
import hashlib
import ssl
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from errors import ConfigurationError
from tasks.push.credentials import fingerprint
from tasks.push.token_cache import Token, TokenCache

REFRESH_AFTER = 50 * 60
MIN_REFRESH_INTERVAL = 20 * 60


def signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of an APNs ``.p8`` file."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigurationError(f"apns.key {path.name!r} is not a PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigurationError(f"apns.key {path.name!r} is not an ES256 (P-256) key")
    return key


@functools.lru_cache(maxsize=64)
def _public_key_hash(path: str, mtime_ns: int, size: int) -> str:
    public = signing_key(Path(path)).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(public).hexdigest()


def key_fingerprint(team_id: str, key_id: str, key_path: Path) -> str:
    """Team, key id and a hash of the public key (a replaced ``.p8`` gets its own token)."""
    try:
        stat = key_path.stat()
    except OSError as exc:
        raise ConfigurationError(f"apns.key {key_path.name!r} cannot be read ({type(exc).__name__})") from None
    return fingerprint("apns", team_id, key_id, _public_key_hash(str(key_path), stat.st_mtime_ns, stat.st_size))


def sign(team_id: str, key_id: str, key_path: Path, now: float) -> Token:
    """A new provider token, ``{"alg": "ES256", "kid": key_id}`` / ``{"iss": team_id, "iat": now}``."""
    claims = {"iss": team_id, "iat": int(now)}
    value = jwt.encode(claims, signing_key(key_path), algorithm="ES256", headers={"kid": key_id})
    return Token(value, float(int(now)), int(now) + REFRESH_AFTER)


def provider_token(team_id: str, key_id: str, key_path: Path, cache: TokenCache, now: float | None = None) -> str:
    """The shared JWT for (team, key), signed anew once it is :data:`REFRESH_AFTER` old."""
    token = cache.get(
        key_fingerprint(team_id, key_id, key_path), lambda at: sign(team_id, key_id, key_path, at), now=now
    )
    return token.value


def forget_token(team_id: str, key_id: str, key_path: Path, value: str, cache: TokenCache) -> bool:
    """Drop a token APNs called expired, unless it is younger than 20 minutes (True if dropped)."""
    return cache.forget(key_fingerprint(team_id, key_id, key_path), value, min_age=MIN_REFRESH_INTERVAL)


def tls_context(cert_path: Path | None) -> ssl.SSLContext:
    """Verifying TLS context (system CAs); with the client certificate (.pem, cert + key) if given."""
    context = ssl.create_default_context()
    if cert_path is not None:
        try:
            context.load_cert_chain(str(cert_path))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"apns.cert {cert_path.name!r} cannot be loaded ({type(exc).__name__})") from None
    return context
