"""HTTP requests pinned to the address the SSRF guard checked.

:func:`request` runs :func:`wrappers.ssrf.check_url`, then sends through a urllib3 connection
pool opened to the pinned IP address while keeping the real hostname for the ``Host`` header,
TLS SNI (``server_hostname``) and certificate verification (``assert_hostname``). Pools exist
only per checked target, so nothing can reach an address the guard did not check. Redirects are
never followed; no proxy is used (a proxy would defeat the pin). ``REQUESTS_CA_BUNDLE`` (or
``CURL_CA_BUNDLE``) still names the trusted CAs, certifi's bundle otherwise.

urllib3 directly, not ``requests``: a webhook is one request with a ready body and headers, and
requests' session machinery (merging settings, hooks, cookies, adapters) cost about twice the
client CPU per request, which bounds the concurrent worker's throughput.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
import urllib3.connection
from requests.utils import requote_uri
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.ssl_match_hostname import CertificateError

from errors import DeliveryTimeout, InvalidPayload, ProviderRejected, ProviderUnavailable
from wrappers import http
from wrappers.ssrf import JOB_DATA, SCHEMES, Rule, Target, check_url

CHUNK = 16 * 1024
#: Largest body sent in the same segment as the request head.
ONE_SEGMENT_MAX = 64 * 1024
USER_AGENT = "fusion-worker"
FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")
#: A header name: an RFC 9110 token (http.client refuses any other; the event loop's client too).
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_managers: dict[int, urllib3.PoolManager] = {}


class OneSegmentRequest:
    """A urllib3 connection mixin: the request head and a small body leave in one ``send``.

    http.client sends the head, then the body, as two writes; with ``TCP_NODELAY`` (urllib3's
    default) they are two segments, and the provider wakes up twice per webhook. On loopback
    each write costs ~100 µs of kernel time; joined, a webhook costs one.
    """

    _hold_head = False
    _head: bytes | None = None

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> None:
        self._hold_head = isinstance(body, bytes) and 0 < len(body) <= ONE_SEGMENT_MAX
        try:
            super().request(method, url, body=body, headers=headers, **options)  # type: ignore[misc]
        except BaseException:
            self._head = None
            raise
        finally:
            self._hold_head = False
        if self._head is not None:  # no body came after all: the head goes alone
            head, self._head = self._head, None
            super().send(head)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        if self._hold_head:
            self._hold_head, self._head = False, bytes(data)
            return
        if self._head is not None:
            data, self._head = self._head + bytes(data), None
        super().send(data)  # type: ignore[misc]


class PinnedHTTPConnection(OneSegmentRequest, urllib3.connection.HTTPConnection):
    pass


class PinnedHTTPSConnection(OneSegmentRequest, urllib3.connection.HTTPSConnection):
    pass


class PinnedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


def manager() -> urllib3.PoolManager:
    """The process's pool manager (a forked work horse builds its own)."""
    pid = os.getpid()
    if pid not in _managers:
        _managers.clear()
        pools = urllib3.PoolManager(num_pools=64, maxsize=http.POOL_SIZE, block=False, retries=False)
        pools.pool_classes_by_scheme = {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}
        _managers[pid] = pools
    return _managers[pid]


def ca_bundle() -> str:
    """The CA bundle to verify with: ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else certifi's."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()


def pool(target: Target) -> urllib3.HTTPConnectionPool:
    """The pool connecting to the target's checked address (TLS names the real host)."""
    options: dict[str, Any] = {}
    if target.scheme == "https":
        options = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_bundle()}
        if not target.is_ip_literal:
            options.update(server_hostname=target.host, assert_hostname=target.host)
    return manager().connection_from_host(target.address, target.port, target.scheme, pool_kwargs=options)


def host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == SCHEMES[target.scheme] else f"{host}:{target.port}"


def request_target(url: str) -> str:
    """The path and query to send (percent-encoded as requests would)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return requote_uri(f"{path}?{parts.query}" if parts.query else path)


def request_headers(headers: dict[str, str] | None, target: Target, what: str) -> dict[str, str]:
    """The headers to send; a name or value that could split the request is refused."""
    ready = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for name, value in (headers or {}).items():
        if not name or any(c in name or c in value for c in FORBIDDEN_IN_HEADERS) or value[:1] in (" ", "\t"):
            raise InvalidPayload(f"{what}: InvalidHeader (a header name or value holds a line break)")
        if not HEADER_NAME.fullmatch(name):
            raise InvalidPayload(f"{what}: InvalidHeader (a header name holds a character not allowed in it)")
        ready[name] = value
    ready["Host"] = host_header(target)
    return ready


@dataclass
class Response:
    """An answer whose body is still to be read (with :func:`read_capped`)."""

    raw: urllib3.BaseHTTPResponse

    @property
    def status_code(self) -> int:
        return self.raw.status

    @property
    def reason(self) -> str:
        return self.raw.reason or ""

    @property
    def headers(self) -> Any:
        return self.raw.headers

    def close(self, read_all: bool = False) -> None:
        """Give the connection back to its pool; closed first unless the body was all read
        (the unread rest would be taken for the next answer)."""
        if not read_all:
            self.raw.close()
        self.raw.release_conn()


def request(
    method: str,
    url: str,
    what: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    rule: Rule = JOB_DATA,
) -> Response:
    """Check ``url`` (by ``rule``: job data's networks, or :data:`wrappers.ssrf.CALLBACK`'s), then
    send one request to the pinned address (no redirects, no retries).

    Returns the response unread: read it with :func:`read_capped`.
    Raises DestinationRefused for a refused URL, classified errors for transport failures.
    """
    return send_to(check_url(url, rule), method, url, what, timeout, headers, data)


def send_to(
    target: Target, method: str, url: str, what: str, timeout: float,
    headers: dict[str, str] | None = None, data: bytes | None = None,
) -> Response:  # fmt: skip
    """Send one request to ``target`` (checked by the caller); the response unread."""
    ready = request_headers(headers, target, what)
    try:
        raw = pool(target).urlopen(
            method, request_target(url), body=data, headers=ready, redirect=False, retries=False,
            assert_same_host=False, preload_content=False, decode_content=True, release_conn=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )  # fmt: skip
    except (HTTPError, OSError) as exc:
        raise transport_error(exc, what) from exc
    return Response(raw)


def transport_error(exc: Exception, what: str) -> Exception:
    """The classified error for a transport failure."""
    name = type(exc).__name__
    if isinstance(exc, NewConnectionError):
        return ProviderUnavailable(f"{what}: connection failed ({name})")
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
        return DeliveryTimeout(f"{what}: timed out ({name})")
    if isinstance(exc, SSLError) and certificate_refused(exc):
        return ProviderRejected(f"{what}: TLS certificate verification failed")
    if isinstance(exc, LocationParseError):
        return ProviderRejected(f"{what}: invalid URL ({name})")
    if isinstance(exc, (ProtocolError, SSLError, OSError)):
        return ProviderUnavailable(f"{what}: connection failed ({name})")
    return ProviderUnavailable(f"{what}: request failed ({name})")


def certificate_refused(exc: BaseException) -> bool:
    """Whether a TLS failure is the certificate's (untrusted, expired, for another name)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ssl.SSLCertVerificationError, CertificateError)) or "certificate" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def read_capped(response: Response, limit: int, what: str) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the body; the flag says whether more remained."""
    data = bytearray()
    read_all = False
    try:
        for chunk in response.raw.stream(CHUNK, decode_content=True):
            data.extend(chunk)
            if len(data) > limit:
                return bytes(data[:limit]), True
        read_all = True
        return bytes(data), False
    except (HTTPError, OSError) as exc:
        raise transport_error(exc, what) from exc
    finally:
        response.close(read_all)
