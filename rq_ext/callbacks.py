"""Success and failure callbacks: form-encoded POSTs to the URLs in the job hash.

A callback that fails is retried a few times with backoff, logged, and never changes the outcome.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import requests

from config import get_settings
from wrappers import http
from wrappers.masking import mask_text

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


def success_fields(job_id: str, description: str, retry_count: int, details: Any) -> dict[str, str]:
    """``description, job_id, status=finished, retry_attempts`` plus the channel's delivery details."""
    fields = {"description": description or "", "job_id": job_id, "status": "finished"}
    fields["retry_attempts"] = str(retry_count)
    if isinstance(details, dict):
        for key, value in details.items():
            fields.setdefault(str(key), _text(value))
    return fields


def failure_fields(job_id: str, description: str, failure_trace: str) -> dict[str, str]:
    """``description, failure_trace, job_id, status=failed``."""
    return {"description": description or "", "failure_trace": failure_trace, "job_id": job_id, "status": "failed"}


def post(url: str, fields: dict[str, str], kind: str, connection: Any = None) -> bool:
    """POST ``fields`` form-encoded to ``url``; True once a 2xx came back.

    A callback given up is counted in Redis (``fusion:stats``) when ``connection`` is given."""
    if not url:
        return True
    settings = get_settings()
    delay = settings.CALLBACK_BACKOFF
    for attempt in range(1, settings.CALLBACK_ATTEMPTS + 1):
        try:
            response = http.session().post(url, data=fields, timeout=settings.CALLBACK_TIMEOUT, allow_redirects=False)
            if 200 <= response.status_code < 300:
                return True
            problem = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            problem = type(exc).__name__
        log.warning("%s callback to %s failed (%s), attempt %d", kind, mask_text(url), problem, attempt)
        if attempt < settings.CALLBACK_ATTEMPTS:
            time.sleep(delay)
            delay *= 2
    log.error("%s callback for job %s given up after %d attempts", kind, fields.get("job_id"), attempt)
    if connection is not None:
        from rq_ext.metrics import count

        count(connection, f"callback_failures:{kind}")
    return False
