"""FCM HTTP v1 error answers, read from the structured details as well as the status.

An error body looks like::

    {"error": {"code": 400, "message": "Request contains an invalid argument.",
               "status": "INVALID_ARGUMENT",
               "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": "INVALID_ARGUMENT"},
                           {"@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": "message.token",
                                                 "description": "Invalid registration token"}]}]}}

The ``FcmError.errorCode`` is read as firebase-admin reads it (the first detail of that type);
``error.status`` stands in when there is none. The token is **invalid** (to prune) on
``UNREGISTERED`` (404), and on ``INVALID_ARGUMENT`` when a ``google.rpc.BadRequest`` field
violation names ``message.token`` (or, for answers without details, the message names the
registration token). Not invalid: ``SENDER_ID_MISMATCH`` (the token belongs to another project:
on a misconfigured account that would prune every device), a 404 without ``UNREGISTERED`` (a
wrong project) and an ``INVALID_ARGUMENT`` about any other field. ``QUOTA_EXCEEDED``,
``UNAVAILABLE``, ``INTERNAL``, 429 and 5xx are retryable; everything else (``THIRD_PARTY_AUTH_ERROR``,
``SENDER_ID_MISMATCH``, 401/403, other 4xx) is permanent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wrappers.masking import mask_text

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
TOKEN_FIELD = "message.token"
INVALID_TOKEN_CODES = frozenset({"UNREGISTERED"})
RETRYABLE_CODES = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})


@dataclass(frozen=True)
class FcmAnswer:
    """An FCM error answer: HTTP status, ``error.status``, ``FcmError.errorCode``, message and
    the field violations of ``google.rpc.BadRequest`` (field -> description)."""

    http_status: int
    status: str = ""
    code: str = ""
    message: str = ""
    violations: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The error's name: the FCM code, else the canonical status."""
        return self.code or self.status

    @property
    def token_violation(self) -> str | None:
        return next((text for field, text in self.violations if field == TOKEN_FIELD), None)

    @property
    def token_is_invalid(self) -> bool:
        if self.code in INVALID_TOKEN_CODES:
            return True
        if self.http_status != 400 or self.name != "INVALID_ARGUMENT":
            return False
        if self.violations:
            return self.token_violation is not None
        return "registration token" in self.message.lower()

    @property
    def retryable(self) -> bool:
        return self.http_status == 429 or self.http_status >= 500 or self.code in RETRYABLE_CODES

    def label(self) -> str:
        """``FCM <status> <name>``, with the token's field violation when there is one."""
        label = f"FCM {self.http_status} {self.name}".strip()
        violation = self.token_violation
        return f"{label} ({TOKEN_FIELD}: {mask_text(violation)[:100]})" if violation else label


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _violations(details: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for detail in details:
        if detail.get("@type") == BAD_REQUEST:
            for violation in _dicts(detail.get("fieldViolations")):
                found.append((str(violation.get("field", "")), str(violation.get("description", ""))))
    return tuple(found)


def parse(http_status: int, body: Any) -> FcmAnswer:
    """The answer of an error body (already decoded JSON; anything else gives just the status)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return FcmAnswer(http_status)
    details = _dicts(error.get("details"))
    code = next((str(d.get("errorCode") or "") for d in details if d.get("@type") == FCM_ERROR), "")
    return FcmAnswer(
        http_status,
        status=str(error.get("status") or ""),
        code=code,
        message=str(error.get("message") or ""),
        violations=_violations(details),
    )
