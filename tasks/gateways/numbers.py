"""Phone numbers: parsed and validated with ``phonenumbers``, then written in a gateway's format."""

from __future__ import annotations

import re

import phonenumbers

from errors import InvalidRecipient
from tasks.gateways.spec import E164, NATIONAL, PLAIN

#: Deployment zone -> default region for numbers written without a country code.
ZONE_REGIONS = {"IN": "IN", "US": "US", "AE": "AE", "UAE": "AE", "UK": "GB", "GB": "GB"}


def default_region(zone: str) -> str:
    """The phonenumbers region for a ``CRELIO_DEPLOYMENT_ZONE``."""
    return ZONE_REGIONS.get(zone.upper(), zone.upper() or "IN")


def masked(raw: str) -> str:
    """A number as it may appear in a reason or a log: only its last 4 digits."""
    digits = re.sub(r"\D", "", raw)
    return "*" * max(len(digits) - 4, 0) + digits[-4:] if digits else "(no digits)"


def normalise(raw: str, region: str) -> str:
    """The number in E.164, or :class:`InvalidRecipient` (the number masked in the reason)."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRecipient(f"invalid phone number {masked(str(raw))}: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRecipient(f"invalid phone number {masked(str(raw))} for region {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_all(raw: str | list[str], region: str) -> list[str]:
    """Every recipient in E.164, duplicates dropped, order kept."""
    values = raw if isinstance(raw, list) else str(raw).split(",")
    numbers = [normalise(value.strip(), region) for value in values if str(value).strip()]
    if not numbers:
        raise InvalidRecipient("no recipient number")
    return list(dict.fromkeys(numbers))


def write(e164: str, number_format: str) -> str:
    """An E.164 number in a gateway's format."""
    if number_format == E164:
        return e164
    if number_format == PLAIN:
        return e164.lstrip("+")
    if number_format == NATIONAL:
        return phonenumbers.national_significant_number(phonenumbers.parse(e164))
    raise ValueError(f"unknown number format {number_format!r}")
