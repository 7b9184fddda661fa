"""Sentry error reporting: ``sentry-sdk`` with its RQ integration, from ``SENTRY_DSN``.

Only final failures are reported: an exception that the worker is about to retry carries
``__fusion_will_retry__`` and is dropped in ``before_send``. The scrubber removes job arguments,
payloads, descriptions and local variables, and masks every remaining string, so no patient
data or secret reaches Sentry.
"""

from __future__ import annotations

import logging
from typing import Any

from wrappers.masking import mask_text, mask_value

log = logging.getLogger(__name__)

#: Set on an exception the worker will retry; such events are not sent.
WILL_RETRY = "__fusion_will_retry__"
_JOB_KEYS_DROPPED = ("args", "kwargs", "description", "meta")

_enabled = False


def _mask_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_strings(v) for v in value]
    return mask_text(value) if isinstance(value, str) else value


def scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """``before_send``: drop retried failures; remove payloads; mask what is left."""
    exc_info = hint.get("exc_info") if hint else None
    if exc_info and getattr(exc_info[1], WILL_RETRY, False):
        return None
    job = event.get("extra", {}).get("rq-job")
    if isinstance(job, dict):
        for key in _JOB_KEYS_DROPPED:
            job.pop(key, None)
    for exception in event.get("exception", {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    event.pop("request", None)
    if "breadcrumbs" in event:
        event["breadcrumbs"] = mask_value(event["breadcrumbs"])
    return _mask_strings(event)


def init(dsn: str, environment: str = "", release: str = "") -> bool:
    """Initialise sentry-sdk with the RQ integration; a no-op without a DSN."""
    global _enabled
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[RqIntegration()],
        before_send=scrub,  # type: ignore[arg-type]
        before_breadcrumb=lambda crumb, hint: mask_value(crumb),
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
    )
    _enabled = True
    return True


def mark_will_retry(exc: BaseException) -> None:
    try:
        setattr(exc, WILL_RETRY, True)
    except (AttributeError, TypeError):
        pass


def capture_failure(reason: str, **tags: str) -> None:
    """Report a final failure that has no exception object (e.g. a malformed job hash)."""
    if not _enabled:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for key, value in tags.items():
            scope.set_tag(key, value)
        sentry_sdk.capture_message(f"job failed: {mask_text(reason)}", level="error")


def flush(timeout: float = 2.0) -> None:
    if _enabled:
        import sentry_sdk

        sentry_sdk.flush(timeout=timeout)
