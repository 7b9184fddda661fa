"""Masking of patient data and secrets, applied to every log record in one place.

- phone numbers keep their last 4 digits: ``+919876543210`` -> ``*********3210``;
- e-mail addresses keep their domain: ``asha@lab.example`` -> ``***@lab.example``;
- bearer tokens, Authorization headers, URL passwords and key-like query parameters are replaced;
- dicts: values under sensitive keys (``config``, ``message``, ``to``, ``token``...) are replaced.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
_PHONE = re.compile(r"(?<![\w.+/-])(?:\+\d(?:[ -]?\d){8,15}|\d{10,15})(?![\w]|\.\d)")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token|key)\s+[A-Za-z0-9._~+/=\-]{8,}")
_AUTH_HEADER = re.compile(r"(?i)(authorization|x-api-key|api-key|authkey)(['\"]?\s*:\s*['\"]?)[^'\",}\n]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*):[^@/\s]+@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:api[_-]?key|apikey|key|token|access_token|auth[_-]?key|authkey|password|passwd|pwd|"
    r"secret|signature|sig|sid|auth)=)[^&#\s'\"]+"
)

#: Keys whose values are replaced wherever they appear in a dict.
SENSITIVE_KEYS = frozenset(
    {
        "config",
        "message",
        "text",
        "body",
        "html",
        "subject",
        "to",
        "cc",
        "bcc",
        "reply_to",
        "tokens",
        "token",
        "secret",
        "password",
        "api_key",
        "apikey",
        "authorization",
        "headers",
        "json",
        "params",
        "content_base64",
        "auth",
        "credentials",
        "service_account",
        "key",
        "data",
    }
)


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    """Mask every phone number, e-mail address, token and URL secret in ``text``."""
    text = _URL_PASSWORD.sub(r"\1:" + MASK + "@", text)
    text = _QUERY_SECRET.sub(r"\1" + MASK, text)
    text = _AUTH_HEADER.sub(r"\1\2" + MASK, text)
    text = _BEARER.sub(r"\1 " + MASK, text)
    text = _EMAIL.sub(MASK + r"@\1", text)
    return _PHONE.sub(_mask_phone, text)


def mask_value(value: Any, key: str = "") -> Any:
    """Mask a JSON-like value: sensitive keys are replaced, strings are masked."""
    if key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
