"""The event-loop transport: :class:`wrappers.transport.Request` over aiohttp.

The same rules as the threaded transport (:func:`wrappers.transport.send`), from the same code:
the SSRF guard and the pinned address (:func:`wrappers.transport.target_of`; a name lookup runs
on a thread, never on the loop), ``Host``, SNI and the certificate checked against the real
host (aiohttp's ``server_hostname``, which is part of its connection-pool key, so two hosts on
one address never share a TLS connection), the header check of :mod:`wrappers.pinned`, no
redirects, no proxy, no cookies, the answer read up to ``max_answer`` bytes, connect and read
timeouts of ``timeout`` seconds each. aiohttp's errors map onto the classified errors in one
table (:data:`ERRORS`), as :func:`wrappers.pinned.transport_error` does for urllib3's.

aiohttp, measured against httpx, urllib3 on threads and raw asyncio streams on this machine
(``python -m bench.http_clients``; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import ssl
from functools import lru_cache
from typing import Any

import aiohttp
from yarl import URL

from errors import DeliveryTimeout, ProviderRejected, ProviderUnavailable
from wrappers import pinned
from wrappers.ssrf import Target
from wrappers.transport import Answer, ErrorTable, Request, classified, target_of, target_without_lookup

#: aiohttp's errors -> (classified error, what it says), most specific first.
ERRORS: ErrorTable = (
    (aiohttp.ClientConnectorCertificateError, ProviderRejected, "TLS certificate verification failed"),
    (aiohttp.ClientConnectorError, ProviderUnavailable, "connection failed"),
    (aiohttp.ServerTimeoutError, DeliveryTimeout, "timed out"),
    (TimeoutError, DeliveryTimeout, "timed out"),
    (aiohttp.InvalidURL, ProviderRejected, "invalid URL"),
    (aiohttp.ClientSSLError, ProviderUnavailable, "connection failed"),
    (aiohttp.ClientError, ProviderUnavailable, "connection failed"),
    (OSError, ProviderUnavailable, "connection failed"),
)


def transport_error(exc: BaseException, what: str) -> Exception:
    """The classified error for an aiohttp failure."""
    return classified(exc, what, ERRORS)


@lru_cache(maxsize=8)
def tls_context(ca_bundle: str) -> ssl.SSLContext:
    """Certificates verified against ``ca_bundle`` (:func:`wrappers.pinned.ca_bundle`)."""
    return ssl.create_default_context(cafile=ca_bundle)


@lru_cache(maxsize=64)
def client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Connect and read timeouts of ``seconds`` each (no total: the job's deadline is that)."""
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


def wire_url(target: Target, request: Request) -> URL:
    """The URL aiohttp connects to: the checked address, the path as the threaded transport
    sends it (already percent-encoded)."""
    host = f"[{target.address}]" if ":" in target.address else target.address
    base = f"{target.scheme}://{host}:{target.port}"
    return URL(base + pinned.request_target(request.url), encoded=True)


class AioTransport:
    """One aiohttp session (a connection pool of ``limit`` connections) for one event loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=0, use_dns_cache=False)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, auto_decompress=True,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )  # fmt: skip
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, request: Request) -> Answer:
        """Perform ``request``; the answer, read and capped. Raises the classified errors."""
        target = target_without_lookup(request)
        if target is None:  # a name: resolved and checked on a thread, never on the loop
            target = await asyncio.get_running_loop().run_in_executor(None, target_of, request)
        headers = pinned.request_headers(request.headers, target, request.what)
        options: dict[str, Any] = {}
        if target.scheme == "https":
            options["ssl"] = tls_context(pinned.ca_bundle())
            if not target.is_ip_literal:
                options["server_hostname"] = target.host
        timeout = client_timeout(request.timeout)
        try:
            async with self.session().request(
                request.method, wire_url(target, request), data=request.body, headers=headers,
                allow_redirects=False, timeout=timeout, **options,
            ) as response:  # fmt: skip
                content, truncated = await read_capped(response, request.max_answer)
                return Answer(response.status, response.reason or "", response.headers, content, truncated)
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise transport_error(exc, request.what) from exc


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body; the flag says whether more remained (the
    connection is then closed, not reused)."""
    data = bytearray()
    while len(data) <= limit:
        chunk = await response.content.read(limit + 1 - len(data))
        if not chunk:
            return bytes(data), False
        data += chunk
        if response.content.at_eof() and len(data) <= limit:
            return bytes(data), False
    response.close()
    return bytes(data[:limit]), True
