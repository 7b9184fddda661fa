"""HTTP requests pinned to the address the SSRF guard checked.

:func:`request` runs :func:`wrappers.ssrf.check_url`, then sends through a ``requests`` session
whose adapter connects to the pinned IP address while keeping the real hostname for the
``Host`` header, TLS SNI (``server_hostname``) and certificate verification
(``assert_hostname``). Redirects are never followed; environment proxies are ignored (a proxy
would defeat the pin). ``REQUESTS_CA_BUNDLE`` still names the trusted CAs.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from tasks.errors import DeliveryTimeout, InvalidPayload, ProviderRejected, ProviderUnavailable
from wrappers import http
from wrappers.ssrf import SCHEMES, Target, check_url

CHUNK = 16 * 1024

_sessions: dict[int, requests.Session] = {}


class PinnedAdapter(HTTPAdapter):
    """Connects to ``request.fusion_target.address``; refuses a request the guard did not check."""

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(params)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        target: Target | None = getattr(request, "fusion_target", None)
        if target is None:
            raise ProviderRejected("refused: request was not checked by the SSRF guard")
        host_params["host"] = target.address
        host_params["port"] = target.port
        if target.scheme == "https" and not target.is_ip_literal:
            pool_kwargs["server_hostname"] = target.host
            pool_kwargs["assert_hostname"] = target.host
        return host_params, pool_kwargs


def session() -> requests.Session:
    """The process's pinned session (a forked work horse builds its own)."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions.clear()
        pinned = requests.Session()
        pinned.trust_env = False
        adapter = PinnedAdapter(pool_connections=32, pool_maxsize=http.POOL_SIZE)
        for prefix in ("http://", "https://"):
            pinned.mount(prefix, adapter)
        _sessions[pid] = pinned
    return _sessions[pid]


def host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == SCHEMES[target.scheme] else f"{host}:{target.port}"


def ca_bundle() -> str | bool:
    """The CA bundle to verify with: ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else certifi's."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def request(method: str, url: str, what: str, timeout: float, **kwargs: Any) -> requests.Response:
    """Check ``url``, then send one streamed request to the pinned address (no redirects).

    Returns the response unread (``stream=True``): read it with :func:`read_capped`.
    Raises ProviderRejected for a refused URL, classified errors for transport failures.
    """
    target = check_url(url)
    pinned = session()
    try:
        prepared = pinned.prepare_request(requests.Request(method, url, **kwargs))
    except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL) as exc:
        raise InvalidPayload(f"{what}: {type(exc).__name__}") from exc
    prepared.headers["Host"] = host_header(target)
    prepared.fusion_target = target  # type: ignore[attr-defined]
    try:
        return pinned.send(prepared, allow_redirects=False, stream=True, timeout=timeout, verify=ca_bundle())
    except requests.RequestException as exc:
        raise transport_error(exc, what) from exc


def transport_error(exc: requests.RequestException, what: str) -> Exception:
    """The classified error for a requests exception."""
    if isinstance(exc, (requests.ConnectTimeout, requests.ReadTimeout)):
        return DeliveryTimeout(f"{what}: timed out ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.SSLError) and "certificate" in str(exc).lower():
        return ProviderRejected(f"{what}: TLS certificate verification failed")
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return ProviderUnavailable(f"{what}: connection failed ({type(exc).__name__})")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return ProviderRejected(f"{what}: invalid URL ({type(exc).__name__})")
    return ProviderUnavailable(f"{what}: request failed ({type(exc).__name__})")


def read_capped(response: requests.Response, limit: int, what: str) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the (streamed) body; the flag says whether more remained."""
    data = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            data.extend(chunk)
            if len(data) > limit:
                return bytes(data[:limit]), True
        return bytes(data), False
    except requests.RequestException as exc:
        raise transport_error(exc, what) from exc
    finally:
        response.close()
