"""Masking of patient data and secrets, applied to every log record in one place.

- the values of the send in progress (:func:`wrappers.echoes.guarding`: message text, numbers,
  credentials), in every form a provider echoes them;
- phone numbers keep their last 4 digits: ``+919876543210`` -> ``*********3210``; also written
  with spaces, dashes, dots or parentheses, nationally or URL-encoded (``%2B91...``), found with
  ``phonenumbers``' matcher (only run on a run of digits and separators that could be one);
- e-mail addresses keep their domain: ``asha@lab.example`` -> ``***@lab.example`` (also
  ``asha%40lab.example``);
- bearer tokens, Authorization headers, URL passwords and key-like query parameters are replaced;
- dicts: values under sensitive keys (``config``, ``message``, ``to``, ``token``...) are replaced.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

from wrappers.echoes import scrub_current

MASK = "***"

#: (Each starts only where a local part can start: linear, not quadratic, on a long word.)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
_EMAIL_ENCODED = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+%40([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)", re.I)
#: A phone number after a URL-encoded plus: ``to=%2B919876543210``.
_PHONE_ENCODED = re.compile(r"(?i)(?<=%2B)\d{8,15}(?!\d)")
#: A run of digits and separators that may be a formatted phone number (the matcher decides).
_FORMATTED = re.compile(r"(?:\+|%2[Bb])?\(?\d[\d()]*(?:(?:[ .\-/]|%20|\+)+\(?\d[\d()]*){1,6}")
_MIN_DIGITS = 8
#: Dates and times are not phone numbers: ``2026-11-29 19:11:33``, ``29/11/2026``.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}){1,2})?|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{2}:\d{2}:\d{2}")
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


_regions: dict[str, str] = {}
_get_settings: Callable[[], Any] | None = None


def region() -> str:
    """The phonenumbers region national numbers are read in (the deployment zone, else IN)."""
    global _get_settings
    try:
        if _get_settings is None:
            from config import get_settings  # config imports wrappers: looked up when first needed

            _get_settings = get_settings
        zone = str(_get_settings().CRELIO_DEPLOYMENT_ZONE)
    except Exception:
        zone = "IN"
    found = _regions.get(zone)
    if found is None:
        found = _regions.setdefault(zone, zone.upper() if len(zone) == 2 and zone.isalpha() else "IN")
    return found


def _view(raw: str) -> str:
    """``raw`` with URL-encoded plus and spaces as the matcher reads them (same length)."""
    view = raw.replace("%2B", "  +").replace("%2b", "  +").replace("%20", "   ")
    return re.sub(r"(?<=\d)\+(?=\d)", " ", view)


def _bounded(text: str, start: int, end: int) -> bool:
    """Not part of a longer word, id or decimal number."""
    before = text[start - 1] if start else " "
    after = text[end : end + 2]
    return not before.isalnum() and not (after[:1].isalnum() or (after[:1] in ".," and after[1:2].isdigit()))


def formatted_phones(text: str) -> list[tuple[int, int]]:
    """Spans of the phone numbers written with separators (``+91 98765-43210``, ``(415) 555 2671``)."""
    spans: list[tuple[int, int]] = []
    dates: list[tuple[int, int]] | None = None
    for candidate in _FORMATTED.finditer(text):
        raw = candidate.group(0)
        if sum(c.isdigit() for c in raw) < _MIN_DIGITS:
            continue
        view = _view(raw)
        for match in PhoneNumberMatcher(view, region(), leniency=Leniency.VALID):
            start, end = candidate.start() + match.start, candidate.start() + match.end
            if view[match.start] == "+" and raw[match.start] != "+":
                start -= 2  # the %2B of a URL-encoded plus
            if dates is None:
                dates = [m.span() for m in _DATE.finditer(text)]
            if _bounded(text, start, end) and not any(s < end and start < e for s, e in dates):
                spans.append((start, end))
    return spans


def mask_phones(text: str) -> str:
    """Mask phone numbers in every format (E.164, plain, national, with separators)."""
    if "%2" in text:
        text = _PHONE_ENCODED.sub(_mask_phone, text)
    for start, end in reversed(formatted_phones(text)):
        digits = re.sub(r"\D", "", text[start:end].replace("%2B", "").replace("%2b", "").replace("%20", ""))
        text = text[:start] + "*" * (len(digits) - 4) + digits[-4:] + text[end:]
    return _PHONE.sub(_mask_phone, text)


#: Texts up to this long have their pattern masking cached (labels, queue names, outcomes: a log
#: record masks each of its context fields, and those repeat from job to job).
CACHED_UP_TO = 64


def mask_text(text: str) -> str:
    """Mask the current send's values, every phone number, e-mail address, token and URL secret."""
    text = scrub_current(text)  # depends on the send in progress: never cached
    if len(text) <= CACHED_UP_TO:
        return _mask_short(text, region())
    return _mask_patterns(text)


@functools.lru_cache(maxsize=1024)
def _mask_short(text: str, zone: str) -> str:
    """:func:`_mask_patterns` of a short text (a pure function of the text and the zone)."""
    return _mask_patterns(text)


def _mask_patterns(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\1:" + MASK + "@", text)
    text = _QUERY_SECRET.sub(r"\1" + MASK, text)
    text = _AUTH_HEADER.sub(r"\1\2" + MASK, text)
    text = _BEARER.sub(r"\1 " + MASK, text)
    if "%40" in text:
        text = _EMAIL_ENCODED.sub(MASK + r"%40\1", text)
    text = _EMAIL.sub(MASK + r"@\1", text)
    return mask_phones(text)


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


def mask_recipient(field: str, item: Any) -> str:
    """One recipient as a page or a callback may show it: a push token by its last 4 characters,
    a URL by its host, a number or address masked; anything the masker does not recognise as a
    number or address is hidden whole."""
    text = str(item)
    if field in ("tokens", "token"):
        return f"token …{text[-4:]}" if len(text) > 8 else "token ***"
    if field == "url":  # the host only: a path may name a patient or carry a token
        scheme, _, rest = text.partition("://")
        return f"{scheme}://{rest.split('/')[0].split('?')[0].rsplit('@', 1)[-1]}" if rest else MASK
    masked = mask_text(text)
    return masked if masked != text else MASK
