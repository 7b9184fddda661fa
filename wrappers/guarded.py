"""Provider requests to a URL that came from job data, through the SSRF guard and the pin.

A payload may name its own gateway or WhatsApp provider host (``config.base_url``, the ``http``
gateway's ``url``): that is tenant data, so it passes :func:`wrappers.ssrf.check_url` like a
webhook (``WEBHOOK_ALLOWED_NETWORKS``) and the request goes to the pinned address
(:mod:`wrappers.pinned`). :func:`send` takes the same arguments as :func:`wrappers.http.send`
(``params``, ``json``, ``data``, ``headers``, ``auth``, ``timeout``): ``requests`` only encodes
the request, urllib3 sends it. The answer is read up to :data:`MAX_ANSWER_BYTES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from errors import InvalidPayload
from wrappers import pinned

#: Most of a provider's answer that is read (an acceptance or an error is a few hundred bytes).
MAX_ANSWER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Answer:
    """A provider's answer, read: what :mod:`tasks.gateways.outcome` needs of a response."""

    status_code: int
    reason: str
    headers: Any
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(charset(self.headers.get("Content-Type", "")), "replace")


#: Charsets read as named; any other (or none) is read as UTF-8.
CHARSETS = frozenset(
    {"utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "utf-16"}
)


def charset(content_type: str) -> str:
    """The charset a Content-Type names when it is a common one, UTF-8 otherwise."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip("\"' ").lower() in CHARSETS:
            return value.strip("\"' ").lower()
    return "utf-8"


def encode(method: str, url: str, what: str, **kwargs: Any) -> requests.PreparedRequest:
    """The request as ``requests`` would encode it (query, form or JSON body, Basic auth)."""
    options = {k: kwargs[k] for k in ("params", "json", "data", "headers", "auth") if kwargs.get(k) is not None}
    try:
        return requests.Request(method, url, **options).prepare()
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise InvalidPayload(f"{what}: the request cannot be built ({type(exc).__name__})") from None


def send(method: str, url: str, what: str, timeout: float, **kwargs: Any) -> Answer:
    """Check the URL, send one request to the pinned address, read the answer (no redirects)."""
    prepared = encode(method, url, what, **kwargs)
    body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
    headers = {str(k): str(v) for k, v in prepared.headers.items()}
    response = pinned.request(method, str(prepared.url), what, timeout, headers=headers, data=body)
    content, _ = pinned.read_capped(response, MAX_ANSWER_BYTES, what)
    return Answer(response.status_code, response.reason, response.headers, content)
