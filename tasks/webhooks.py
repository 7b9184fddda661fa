"""Webhook delivery, channel code 4.

``payload = {"task": 4, "url": ..., "method": "POST", "headers": {...}, "json": ... | "body": "...",
"timeout": 15}``. 2xx is success; 5xx, 429, timeouts and connection errors are retryable; any
other status (redirects included: they are never followed) is a permanent failure. A URL that
does not match ``WEBHOOK_WHITELIST`` fails permanently before any request.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from config import get_settings
from tasks.errors import InvalidPayload, NotWhitelisted
from tasks.payload import WEBHOOK, optional, payload_of, require
from wrappers import http
from wrappers.masking import mask_text

log = logging.getLogger(__name__)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 15.0


def check_whitelist(url: str) -> None:
    """Refuse a URL that does not match ``WEBHOOK_WHITELIST`` (``re.match``, anchored at the start)."""
    if not re.match(get_settings().WEBHOOK_WHITELIST, url):
        raise NotWhitelisted(f"webhook URL {mask_text(url)} is not on the whitelist (WEBHOOK_WHITELIST)")


def build_request(payload: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the HTTP request the payload describes."""
    method = str(optional(payload, "method", str, "POST")).upper()
    if method not in METHODS:
        raise InvalidPayload(f"payload.method {method!r} is not one of {', '.join(METHODS)}")
    headers = optional(payload, "headers", dict, {}) or {}
    timeout = optional(payload, "timeout", (int, float), DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or timeout <= 0:
        raise InvalidPayload("payload.timeout must be a positive number of seconds")
    request: dict[str, Any] = {"method": method, "headers": {str(k): str(v) for k, v in headers.items()}}
    request["timeout"] = float(timeout)
    if "json" in payload and "body" in payload:
        raise InvalidPayload("payload has both 'json' and 'body'")
    if "json" in payload:
        request["json"] = payload["json"]
    elif payload.get("body") is not None:
        request["data"] = optional(payload, "body", str).encode("utf-8")
    return request


def send_webhook(task: Any) -> dict[str, Any]:
    """Deliver one webhook; return the delivery details for the success callback."""
    payload = payload_of(task, WEBHOOK)
    url = require(payload, "url", str)
    check_whitelist(url)
    request = build_request(payload)
    method = request.pop("method")
    if get_settings().DRY_RUN:
        log.info("DRY_RUN webhook: would %s %s", method, mask_text(url))
        return {"dry_run": "true", "channel": "webhook"}
    response = http.send(method, url, what="webhook", **request)
    http.raise_for_outcome(response, "webhook")
    log.info("webhook delivered: %s %s -> HTTP %s", method, mask_text(url), response.status_code)
    return {"channel": "webhook", "status_code": response.status_code}
