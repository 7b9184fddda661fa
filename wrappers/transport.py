"""What a sans-I/O channel asks of the network: a :class:`Request` out, an :class:`Answer` back.

A channel (webhook, HTTP gateway, WhatsApp provider) builds requests and reads answers; it
never opens a socket. A transport performs the request:

- :func:`send` here, the threaded transport: urllib3 through :mod:`wrappers.pinned`, blocking,
  for the fork, simple and concurrent worker classes;
- :class:`wrappers.loop_http.LoopTransport`, the event-loop transport (asyncio protocols over
  httptools' parser), for the async worker class; :class:`wrappers.aio_http.AioTransport`
  (aiohttp) instead with ``ASYNC_HTTP_CLIENT=aiohttp``.

Both apply the same rules, written once in :mod:`wrappers.pinned` and :mod:`wrappers.ssrf`: a
``guarded`` request (its URL came from job data) passes the SSRF guard and goes to the checked
address, keeping the real host for ``Host``, SNI and the certificate check; no redirect is
followed; no proxy; headers holding a line break are refused; the answer is read up to
``max_answer`` bytes; connect and read timeouts are ``timeout`` seconds each; transport
failures become the classified errors of :func:`wrappers.pinned.transport_error` (the async
transport maps aiohttp's errors onto the same ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from errors import InvalidPayload, ProviderUnavailable
from wrappers import pinned
from wrappers.ssrf import JOB_DATA, Target, check_url, check_url_without_lookup, parse

#: Most of a provider's answer that is read (an acceptance or an error is a few hundred bytes).
MAX_ANSWER_BYTES = 256 * 1024

#: Charsets read as named; any other (or none) is read as UTF-8.
CHARSETS = frozenset(
    {"utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "utf-16"}
)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, ready to send: the exact body bytes and headers."""

    method: str
    url: str
    what: str  # who is asked (``webhook``, a gateway's name): error messages name it
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    #: The URL came from job data: SSRF guard and pinned address (``WEBHOOK_ALLOWED_NETWORKS``).
    guarded: bool = True
    max_answer: int = MAX_ANSWER_BYTES


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's answer, read (at most ``max_answer`` bytes of its body)."""

    status_code: int
    reason: str
    headers: Any  # case-insensitive mapping
    content: bytes
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.content.decode(charset(self.headers.get("Content-Type", "")), "replace")


class LoopHTTP(Protocol):
    """An event-loop transport (:mod:`wrappers.loop_http`, :mod:`wrappers.aio_http`)."""

    async def send(self, request: Request) -> Answer: ...

    async def close(self) -> None: ...


#: A loop client's table of errors: (caught, classified error, what it says), most specific first.
ErrorTable = tuple[tuple[type[BaseException], type[Exception], str], ...]


def classified(exc: BaseException, what: str, table: ErrorTable) -> Exception:
    """The classified error ``table`` gives for ``exc`` (a retryable "request failed" if none)."""
    for caught, error, words in table:
        if isinstance(exc, caught):
            return error(f"{what}: {words} ({type(exc).__name__})")
    return ProviderUnavailable(f"{what}: request failed ({type(exc).__name__})")


def charset(content_type: str) -> str:
    """The charset a Content-Type names when it is a common one, UTF-8 otherwise."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip("\"' ").lower() in CHARSETS:
            return value.strip("\"' ").lower()
    return "utf-8"


def encode(method: str, url: str, what: str, timeout: float, guarded: bool = True, **kwargs: Any) -> Request:
    """A :class:`Request` from ``requests``-style arguments (``params``, ``json``, ``data``,
    ``headers``, ``auth``), encoded as ``requests`` encodes them (query, form or JSON, Basic)."""
    options = {k: kwargs[k] for k in ("params", "json", "data", "headers", "auth") if kwargs.get(k) is not None}
    try:
        prepared = prepare(method, url, options)
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise InvalidPayload(f"{what}: the request cannot be built ({type(exc).__name__})") from None
    body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
    headers = {str(k): str(v) for k, v in prepared.headers.items()}
    return Request(method, str(prepared.url), what, float(timeout), headers, body, guarded)


#: A URL that requests' ``prepare_url`` gives back as it is (an empty path becomes "/"): http(s),
#: a lower-case host name or address, a port, and a path and query of characters it never
#: re-encodes, no dot segment, no credentials. tests/test_transport_encode.py checks the claim.
PLAIN_URL = re.compile(
    r"https?://[a-z0-9][a-z0-9.-]*(?::(?P<port>[1-9][0-9]{0,4}))?(?P<path>/[A-Za-z0-9._~/=&,:+-]*(?:\?[A-Za-z0-9._~/=&,:+-]+)?)?"
)


def prepare(method: str, url: str, options: dict[str, Any]) -> requests.PreparedRequest:
    """``requests.Request(method, url, **options).prepare()``; for a plain URL without ``params``
    or ``auth``, the same request without requests' URL parsing, cookie and hook steps, which
    change nothing there (a tenth of the SMS path's CPU on the event loop)."""
    plain = PLAIN_URL.fullmatch(url)
    if plain is None or "params" in options or "auth" in options or "/." in url or int(plain["port"] or 0) > 65535:
        return requests.Request(method, url, **options).prepare()
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    prepared.url = url if plain["path"] else url + "/"
    prepared.prepare_headers(options.get("headers"))
    prepared.prepare_body(options.get("data"), None, options.get("json"))
    return prepared


def target_of(request: Request) -> Target:
    """Where the request goes: the checked, pinned address of a guarded URL; an unguarded URL
    (a provider's own, from the code) goes to its host, resolved when connecting."""
    if request.guarded:
        return check_url(request.url, JOB_DATA)
    scheme, host, port = parse(request.url)
    return Target(url=request.url, scheme=scheme, host=host, port=port, address=host)


def target_without_lookup(request: Request) -> Target | None:
    """:func:`target_of` when no name must be looked up for it (unguarded, or an address),
    else None (an event loop then runs :func:`target_of` on a thread)."""
    if not request.guarded:
        return target_of(request)
    return check_url_without_lookup(request.url, JOB_DATA)


def send(request: Request) -> Answer:
    """Perform ``request`` on this thread (urllib3, pinned); the answer, read and capped."""
    target = target_of(request)
    response = pinned.send_to(target, request.method, request.url, request.what, request.timeout,
                              request.headers, request.body)  # fmt: skip
    content, truncated = pinned.read_capped(response, request.max_answer, request.what)
    return Answer(response.status_code, response.reason, response.headers, content, truncated)
