"""The fields of the success and failure callbacks (form-encoded POSTs to the URLs in the job
hash) and the job description they carry. Delivery is the outbox's (:mod:`rq_ext.sender`)."""

from __future__ import annotations

import json
from typing import Any

from rq_ext import contract
from wrappers.masking import mask_recipient

#: Payload fields that name the recipients, shown masked in a description.
RECIPIENT_FIELDS = ("to", "numbers", "number", "mobile", "phone", "email", "emails", "recipients", "tokens", "token")


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


def describe(func_name: str, task: Any) -> str:
    """The callbacks' ``description``: the function, the channel and the masked recipients, never
    the arguments (rq's own description is the whole call, credentials and message included)."""
    payload = task.get("payload") if isinstance(task, dict) else None
    parts = []
    if isinstance(payload, dict):
        code = payload.get("task")
        if isinstance(code, int | str) and str(code).isdigit():
            parts.append(f"channel={contract.channel_name(code)}")
        recipients = [_recipients(name, payload[name]) for name in RECIPIENT_FIELDS if name in payload]
        if recipients:
            parts.append("to=" + ",".join(r for r in recipients if r))
    return f"{func_name or '?'}({', '.join(parts)})"


def _recipients(field: str, value: Any) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    shown = [mask_recipient(field, item)[:40] for item in items[:5] if isinstance(item, str | int)]
    more = f"+{len(items) - 5}" if len(items) > 5 else ""
    return ",".join(shown) + more
