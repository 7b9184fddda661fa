"""Provider requests to a URL that came from job data, through the SSRF guard and the pin.

A payload may name its own gateway or WhatsApp provider host (``config.base_url``, the ``http``
gateway's ``url``): that is tenant data, so it passes :func:`wrappers.ssrf.check_url` like a
webhook (``WEBHOOK_ALLOWED_NETWORKS``) and the request goes to the pinned address
(:mod:`wrappers.pinned`). :func:`send` takes the same arguments as :func:`wrappers.http.send`
(``params``, ``json``, ``data``, ``headers``, ``auth``, ``timeout``) and performs the request on
this thread through :mod:`wrappers.transport`; the answer is read up to
:data:`~wrappers.transport.MAX_ANSWER_BYTES`.
"""

from __future__ import annotations

from typing import Any

from wrappers import transport
from wrappers.transport import CHARSETS, MAX_ANSWER_BYTES, Answer, charset

__all__ = ["CHARSETS", "MAX_ANSWER_BYTES", "Answer", "charset", "send"]


def send(method: str, url: str, what: str, timeout: float, **kwargs: Any) -> Answer:
    """Check the URL, send one request to the pinned address, read the answer (no redirects)."""
    return transport.send(transport.encode(method, url, what, timeout, **kwargs))
