"""Reading a gateway's answer: accepted (with a message id) or a classified error.

"Accepted" means the provider said so: the status code is one of the gateway's success codes
*and* its body rule holds (a JSON field value, no error key, a text pattern). Anything else
raises: 429, 5xx and "queue full"-type texts are retryable; invalid numbers are
:class:`InvalidRecipient`; every other refusal is :class:`ProviderRejected`. The provider's own
message is in the reason, masked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from errors import (
    FusionError,
    InvalidRecipient,
    PermanentError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    RetryableError,
)
from tasks.gateways.spec import RECIPIENT_TEXT, RETRYABLE_TEXT, Success
from wrappers import http
from wrappers.echoes import Secrets
from wrappers.masking import mask_text

_RATE = re.compile(r"(?i)too\s*many|rate\s*limit|throughput|throttl")


def dig(data: Any, path: str | None) -> Any:
    """The value at a dotted path (``messages.0.status``), or None."""
    if not path:
        return None
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def parse_json(text: str) -> Any:
    """The JSON body, or None when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


#: The values a reason must not carry: a :class:`~wrappers.echoes.Secrets`, or plain values.
Known = Secrets | tuple[str, ...]


def scrub(text: str, secrets: Known) -> str:
    """``text`` without the values we sent (message, numbers, credentials) in any form a provider
    echoes them (URL-, JSON-, HTML-encoded, any case, any 8-character run of the text), masked."""
    known = secrets if isinstance(secrets, Secrets) else Secrets(values=secrets)
    return mask_text(known.scrub(text))


def detail_of(success: Success, data: Any, text: str, secrets: Known = ()) -> str:
    """The provider's own message, scrubbed, masked and shortened."""
    for path in success.error:
        value = dig(data, path)
        if value not in (None, "", [], {}):
            return scrub(value if isinstance(value, str) else json.dumps(value), secrets)[:300]
    return scrub(text.strip(), secrets)[:300]


def classified(
    reason: str, detail: str, codes: list[str], retry: tuple[str, ...], invalid: tuple[str, ...]
) -> FusionError:
    """The error class a refusal's codes and text say: transient, an invalid number, or a rejection."""
    if any(code in retry for code in codes) or re.search(RETRYABLE_TEXT, detail):
        return RateLimited(reason) if _RATE.search(detail) else ProviderUnavailable(reason)
    if any(code in invalid for code in codes) or re.search(RECIPIENT_TEXT, detail):
        return InvalidRecipient(reason)
    return ProviderRejected(reason)


def refusal(name: str, success: Success, data: Any, text: str, status: int, secrets: Known = ()) -> FusionError:
    """The classified error for an answer that is not an acceptance; the provider's own code leads
    its message in the reason."""
    detail = detail_of(success, data, text, secrets)
    code = dig(data, success.code)
    if code in (None, "", [], {}) and isinstance(dig(data, success.field), (str, int)):
        status = dig(data, success.field)  # the per-message status the rule reads (Twilio "failed")
        code = None if isinstance(status, bool) else status
    shown = scrub(str(code), secrets)[:40] if code not in (None, "", [], {}) else ""
    lead = f"{shown}: " if shown and shown not in detail else ""
    reason = f"{name}: HTTP {status}: {lead}{detail or 'no reason given'}"
    return classified(reason, detail, [shown] if shown else [], success.retry, success.invalid)


def http_failure(name: str, success: Success, response: http.TextAnswer, data: Any, secrets: Known = ()) -> Exception:
    """429, 5xx and redirects as :func:`wrappers.http.raise_for_outcome` says; 4xx read from the body."""
    status = response.status_code
    if status == 429 or status >= 500 or 300 <= status < 400:
        detail = detail_of(success, data, response.text, secrets)
        try:
            http.raise_for_outcome(response, name)
        except RetryableError as exc:
            return type(exc)(f"{exc}: {detail}", retry_after=exc.retry_after)
        except PermanentError as exc:
            return exc
    return refusal(name, success, data, response.text, status, secrets)


def accepted(success: Success, data: Any, text: str) -> re.Match[str] | bool:
    """Whether the body says "accepted" (the text match, when the rule is a pattern)."""
    if success.text is not None:
        return re.search(success.text, text.strip()) or False
    if success.field is not None:
        value = dig(data, success.field)
        if value in (None, "", [], {}):
            return False
        if success.values and str(value).lower() not in {v.lower() for v in success.values}:
            return False
    return not any(dig(data, key) not in (None, "", [], {}, 0, "0") for key in success.absent)


def read(name: str, success: Success, response: http.TextAnswer, secrets: Known = ()) -> str:
    """The provider's message id for an accepted answer; raise the classified error otherwise.

    ``secrets`` (the text, numbers and credentials sent) are scrubbed from any reason."""
    data = parse_json(response.text)
    if response.status_code not in success.status:
        raise http_failure(name, success, response, data, secrets)
    needs_json = success.field is not None or bool(success.absent) or success.each is not None
    if needs_json and not isinstance(data, (dict, list)):
        raise ProviderRejected(f"{name}: unrecognised answer: {scrub(response.text.strip(), secrets)[:200]}")
    match = accepted(success, data, response.text)
    if not match:
        raise refusal(name, success, data, response.text, response.status_code, secrets)
    if isinstance(match, re.Match) and "id" in match.re.groupindex:
        return match.group("id") or ""
    value = dig(data, success.id)
    return "" if value is None else str(value)
