"""Reading an answer number by number: which numbers the provider accepted, and why it refused the others.

A gateway that sends several numbers in one request must not be judged by its first message only:
a provider that accepts one number and refuses another would otherwise be recorded as having
delivered to both. Where the provider reports each number's status (``Success.each``), every item
is matched to its number by the number it names (digits compared, so ``+91…``, ``91…`` and an
integer all match) and judged on its own; a number with no item in the answer is refused with
that reason. Where the provider lists only the refused numbers (``Success.refused``, Plivo's
``invalid_number``), the others share the answer's id. Elsewhere the answer is one verdict for
the whole request (docs/gateways.md says which).
"""

from __future__ import annotations

import json
import re
from typing import Any

from errors import InvalidRecipient, ProviderRejected
from tasks.gateways import outcome
from tasks.gateways.numbers import masked
from tasks.gateways.outcome import Known, dig, scrub
from tasks.gateways.spec import Each, Refusal, Sent, Success
from wrappers import http

#: The shortest number suffix two differently written numbers may be matched on.
_MIN_DIGITS = 8


def digits(value: Any) -> str:
    """The digits of a number as the provider wrote it (``+91 98765-43210``, ``919876543210``, an int)."""
    return re.sub(r"\D", "", str(value)) if value is not None else ""


def same_number(ours: str, theirs: Any) -> bool:
    """Whether the provider's number is ours, written with or without the country code or ``+``."""
    a, b = digits(ours), digits(theirs)
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    return a == b or (len(shorter) >= _MIN_DIGITS and longer.endswith(shorter))


def items_of(each: Each, data: Any) -> list[Any] | None:
    """The per-recipient list of the answer, or None when it has none."""
    found = data if each.items == "" else dig(data, each.items)
    return found if isinstance(found, list) else None


def match(each: Each, items: list[Any], numbers: tuple[str, ...]) -> dict[str, Any]:
    """Number -> its item, by the number each item names; when one number was sent and one item
    came back without a number, that item (no provider here documents the order of its list)."""
    found: dict[str, Any] = {}
    for number in numbers:
        hit = next((i for i in items if isinstance(i, dict) and same_number(number, dig(i, each.number))), None)
        if hit is not None:
            found[number] = hit
    if not found and len(numbers) == 1 and len(items) == 1 and dig(items[0], each.number) in (None, ""):
        found[numbers[0]] = items[0]
    return found


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _lower(values: tuple[str, ...]) -> set[str]:
    return {v.lower() for v in values}


def judge(name: str, status: int, each: Each, number: str, item: Any, secrets: Known) -> Refusal | None:
    """None when the item says "accepted"; else the classified refusal of this number, its reason
    naming the gateway, the masked number and the provider's status and code."""
    value = dig(item, each.ok)
    if value not in (None, "", [], {}) and (not each.values or text_of(value).lower() in _lower(each.values)):
        return None
    codes = [text_of(c) for c in (dig(item, f) for f in each.code) if c not in (None, "", [], {})]
    codes = [scrub(c, secrets)[:60] for c in dict.fromkeys(codes)]
    described = next((dig(item, f) for f in each.error if dig(item, f) not in (None, "", [], {})), None)
    detail = scrub(text_of(described), secrets)[:200] if described is not None else ""
    code = " ".join(codes) or "no status"
    reason = f"{name}: HTTP {status}: {masked(number)}: {code}" + (f": {detail}" if detail else "")
    error = outcome.classified(reason, f"{code} {detail}", codes, each.retry, each.invalid)
    return Refusal(code, error)


def missing(name: str, status: int, number: str) -> Refusal:
    """A number the per-recipient answer does not mention: not known to be accepted."""
    reason = f"{name}: HTTP {status}: {masked(number)}: no status for this number in the answer"
    return Refusal("not in the answer", ProviderRejected(reason))


def each_of(
    name: str, each: Each, items: list[Any], status: int, numbers: tuple[str, ...], default_id: str, secrets: Known
) -> Sent:
    """Every number judged by its own item of the answer (``default_id``: the answer's own id)."""
    found = match(each, items, numbers)
    sent = Sent()
    for number in numbers:
        item = found.get(number)
        refused = missing(name, status, number) if item is None else judge(name, status, each, number, item, secrets)
        if refused is not None:
            sent.refused[number] = refused
        else:
            message_id = dig(item, each.id) if each.id else default_id
            sent.accepted[number] = "" if message_id is None else str(message_id)
    return sent


def listed(name: str, success: Success, data: Any, status: int, numbers: tuple[str, ...]) -> dict[str, Refusal]:
    """The numbers the answer lists as refused (Plivo ``invalid_number``), each an invalid number."""
    listed_numbers = dig(data, success.refused) or []
    if not isinstance(listed_numbers, list):
        listed_numbers = [listed_numbers]
    refused: dict[str, Refusal] = {}
    for number in numbers:
        if any(same_number(number, entry) for entry in listed_numbers):
            reason = f"{name}: HTTP {status}: {masked(number)}: {success.refused}"
            refused[number] = Refusal(str(success.refused), InvalidRecipient(reason))
    return refused


def read_all(
    name: str, success: Success, response: http.TextAnswer, numbers: tuple[str, ...], secrets: Known = ()
) -> Sent:
    """What the answer says for each number sent; raise the classified error when the answer as a
    whole is a refusal (a status code, a top-level rule, an answer that cannot be read)."""
    message_id = outcome.read(name, success, response, secrets)
    data = outcome.parse_json(response.text)
    status = response.status_code
    if success.each is not None:
        items = items_of(success.each, data)
        if items is None:  # no per-recipient list: a refusal of the request, in the provider's words
            raise outcome.refusal(name, success, data, response.text, status, secrets)
        return each_of(name, success.each, items, status, numbers, message_id, secrets)
    refused = listed(name, success, data, status, numbers) if success.refused else {}
    return Sent({n: message_id for n in numbers if n not in refused}, refused)
