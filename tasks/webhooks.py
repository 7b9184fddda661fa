"""Webhook delivery, channel code 4.

``payload = {"task": 4, "url": ..., "method": "POST", "headers": {...}, "json": ... | "body": "...",
"timeout": 15, "secret": "whsec_..."}``.

- The URL must match ``WEBHOOK_WHITELIST`` and pass the SSRF guard (:mod:`wrappers.ssrf`): only
  http(s), every resolved address public unless in ``WEBHOOK_ALLOWED_NETWORKS``; the request goes
  to the pinned address (:mod:`wrappers.pinned`). Refusals are permanent.
- A request body over ``WEBHOOK_MAX_BODY_BYTES`` is refused (permanent); the response body is
  read up to ``WEBHOOK_MAX_RESPONSE_BYTES``.
- 2xx is success; 5xx, 429, timeouts and connection errors are retryable (``Retry-After`` on
  429/503 is kept for the local retry schedule); any other status, 410 and redirects included
  (they are never followed), is permanent.
- With ``secret``, the request is signed per Standard Webhooks (:func:`signature_headers`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from rq import get_current_job

from config import get_settings
from errors import InvalidPayload, NotWhitelisted, ProviderRejected
from rq_ext import contract, sansio
from rq_ext.ledger import Ledger
from rq_ext.middleware import Middleware
from rq_ext.sansio import Plan, Record
from tasks.payload import WEBHOOK, optional, payload_of, require
from wrappers import http
from wrappers.masking import mask_text
from wrappers.transport import Answer, Request

log = logging.getLogger(__name__)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 15.0
SECRET_PREFIX = "whsec_"


def url_for_log(url: str) -> str:
    """Scheme and host only: webhook paths and queries often carry secrets (Slack, Teams...)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    return mask_text(f"{parts.scheme}://{host}{port}/…")


def check_whitelist(url: str) -> None:
    """Refuse a URL that does not match ``WEBHOOK_WHITELIST`` (``re.match``, anchored at the start)."""
    if not re.match(get_settings().WEBHOOK_WHITELIST, url):
        raise NotWhitelisted(f"webhook URL {url_for_log(url)} is not on the whitelist (WEBHOOK_WHITELIST)")


def request_body(payload: dict[str, Any], headers: dict[str, str]) -> bytes | None:
    """The exact bytes to send (signed as they are); sets Content-Type for JSON."""
    if "json" in payload and "body" in payload:
        raise InvalidPayload("payload has both 'json' and 'body'")
    if "json" in payload:
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return json.dumps(payload["json"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if payload.get("body") is not None:
        return str(optional(payload, "body", str)).encode("utf-8")
    return None


def check_body_size(body: bytes | None) -> None:
    limit = get_settings().WEBHOOK_MAX_BODY_BYTES
    if body is not None and len(body) > limit:
        raise InvalidPayload(f"webhook body is {len(body)} bytes, over WEBHOOK_MAX_BODY_BYTES ({limit})")


def build_request(payload: dict[str, Any], msg_id: str | None = None) -> dict[str, Any]:
    """The keyword arguments of the HTTP request the payload describes (signed with ``msg_id``,
    the job's id, as ``webhook-id``)."""
    method = str(optional(payload, "method", str, "POST")).upper()
    if method not in METHODS:
        raise InvalidPayload(f"payload.method {method!r} is not one of {', '.join(METHODS)}")
    raw_headers = optional(payload, "headers", dict, {}) or {}
    headers = {str(k): str(v) for k, v in raw_headers.items()}
    timeout = optional(payload, "timeout", (int, float), DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or timeout <= 0:
        raise InvalidPayload("payload.timeout must be a positive number of seconds")
    body = request_body(payload, headers)
    check_body_size(body)
    secret = optional(payload, "secret", str)
    if secret:
        signing_id = msg_id or message_id(get_current_job())
        headers.update(signature_headers(secret, signing_id, int(time.time()), body or b""))
    return {"method": method, "headers": headers, "data": body, "timeout": float(timeout)}


def message_id(job: Any) -> str:
    """The ``webhook-id``: the job id (stable across retries), or a fresh id outside a job."""
    return str(job.id) if job is not None else f"msg_{uuid.uuid4().hex}"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidPayload("payload.secret must start with 'whsec_'")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPayload("payload.secret is not valid base64 after 'whsec_'") from None


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def read_answer(answer: Answer, method: str, url: str) -> dict[str, Any]:
    """Classify the endpoint's answer; the callback fields of a delivery."""
    if answer.status_code == 410:
        raise ProviderRejected("webhook: HTTP 410 Gone (the endpoint no longer exists)")
    http.raise_for_outcome(answer, "webhook")
    if log.isEnabledFor(logging.INFO):  # masking the URL costs more than the rest of the log call
        log.info("webhook delivered: %s %s -> HTTP %s", method, url_for_log(url), answer.status_code)
    result: dict[str, Any] = {"channel": "webhook", "status_code": answer.status_code}
    if answer.truncated:
        result["response_truncated"] = "true"
    return result


def plan_webhook(task: Any, job: Any) -> Plan[dict[str, Any]]:
    """The sans-I/O form of :func:`send_webhook` (:mod:`rq_ext.sansio`): one request, read, then
    recorded in the job's delivery ledger."""
    payload = payload_of(task, WEBHOOK)
    url = require(payload, "url", str)
    check_whitelist(url)
    request = build_request(payload, message_id(job))
    settings = get_settings()
    if settings.DRY_RUN:
        size = len(request["data"] or b"")
        log.info("DRY_RUN webhook: would %s %s (%d bytes)", request["method"], url_for_log(url), size)
        return {"dry_run": "true", "channel": "webhook"}
    ledger = Ledger("webhook", job=job)
    status = yield from sansio.reading(ledger, ledger.accepted, "request")
    if status:  # delivered before a crash or a lost bookkeeping step: never sent twice
        log.warning("webhook already delivered for this job (HTTP %s); not sent again", status)
        return {"channel": "webhook", "status_code": int(status), "duplicate_suppressed": "true"}
    method = request["method"]
    answer = yield Request(method, url, "webhook", request["timeout"], request["headers"], request["data"],
                           guarded=True, max_answer=settings.WEBHOOK_MAX_RESPONSE_BYTES)  # fmt: skip
    result = read_answer(answer, method, url)
    yield Record(ledger, "request", str(result["status_code"]))
    return result


@sansio.plan(plan_webhook)
def send_webhook(task: Any) -> dict[str, Any]:
    """Deliver one webhook; return the delivery details for the success callback."""
    return sansio.run(plan_webhook(task, get_current_job()))


class StagingRule(Middleware):
    """The original's rule, as a ``before_job`` hook: a webhook whose URL contains ``staging`` gets
    ``retryCount += 10``, so it is never retried."""

    def before_job(self, job: Any, queue_name: str) -> None:
        task = getattr(job, "task", None)
        payload = task.get("payload") if isinstance(task, dict) else None
        if isinstance(payload, dict) and payload.get("task") == WEBHOOK and "staging" in str(payload.get("url", "")):
            count = job.connection.hincrby(job.key, contract.RETRY_COUNT, 10)
            job.retry_count = int(count)
