"""The e-mail a payload describes: sender, recipients, subject, bodies, attachment specs, config.

``{"task": 2, "from": "Lab <reports@lab.example>", "to": [...], "cc": [...], "bcc": [...],
"reply_to": [...], "subject": "...", "html": "...", "text": "...", "attachments": [...],
"config": {"region": ..., "configuration_set": ..., "account": ...}}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import formataddr, getaddresses, parseaddr
from typing import Any

from config import get_settings
from errors import ConfigurationError, InvalidPayload, InvalidRecipient
from tasks.payload import optional, require
from wrappers.masking import mask_text

#: SES accepts at most 50 recipients (To + Cc + Bcc) per message.
MAX_RECIPIENTS = 50
_ADDR_SPEC = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+$")


@dataclass(frozen=True)
class MailConfig:
    """Where and as whom to send: region, configuration set and the account's credentials."""

    region: str
    configuration_set: str | None
    account: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Email:
    sender: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    subject: str
    text: str | None
    html: str | None
    attachments: list[dict[str, Any]]
    config: MailConfig

    @property
    def recipients(self) -> list[str]:
        return self.to + self.cc + self.bcc


def address(raw: str, field_name: str) -> str:
    """One address, ``Name <local@domain>`` or bare; a non-ASCII name is RFC 2047 encoded."""
    pairs = getaddresses([raw])
    name, addr = pairs[0] if len(pairs) == 1 else ("", "")
    if not _ADDR_SPEC.match(addr or ""):
        raise InvalidRecipient(f"payload.{field_name}: {mask_text(raw)!r} is not a valid e-mail address")
    return formataddr((name, addr), charset="utf-8") if name else addr


def address_list(payload: dict[str, Any], name: str) -> list[str]:
    value = optional(payload, name, (list, str), [])
    raw = [value] if isinstance(value, str) else value
    if not all(isinstance(item, str) for item in raw):
        raise InvalidPayload(f"payload.{name} must be a list of addresses")
    return [address(item, name) for item in raw if item.strip()]


def mail_config(payload: dict[str, Any]) -> MailConfig:
    """``payload.config`` merged over ``EMAIL_ACCOUNTS[config.account]``."""
    config = optional(payload, "config", dict, {}) or {}
    account: dict[str, Any] = {}
    name = config.get("account")
    if name:
        accounts = get_settings().EMAIL_ACCOUNTS
        if name not in accounts or not isinstance(accounts[name], dict):
            raise ConfigurationError(f"e-mail account {name!r} is not in EMAIL_ACCOUNTS")
        account = dict(accounts[name])
    region = config.get("region") or account.get("region") or get_settings().AWS_REGION
    configuration_set = config.get("configuration_set") or account.get("configuration_set")
    return MailConfig(region=str(region), configuration_set=configuration_set or None, account=account)


def parse_email(payload: dict[str, Any]) -> Email:
    """Validate the payload into an :class:`Email`; bad addresses are permanent failures."""
    email = Email(
        sender=address(require(payload, "from", str), "from"),
        to=address_list(payload, "to"),
        cc=address_list(payload, "cc"),
        bcc=address_list(payload, "bcc"),
        reply_to=address_list(payload, "reply_to"),
        subject=require(payload, "subject", str),
        text=optional(payload, "text", str) or None,
        html=optional(payload, "html", str) or None,
        attachments=optional(payload, "attachments", list, []) or [],
        config=mail_config(payload),
    )
    if "\r" in email.subject or "\n" in email.subject:
        raise InvalidPayload("payload.subject must be one line")
    if not email.recipients:
        raise InvalidRecipient("payload has no recipient in to, cc or bcc")
    if len(email.recipients) > MAX_RECIPIENTS:
        raise InvalidPayload(f"payload has {len(email.recipients)} recipients; SES allows {MAX_RECIPIENTS}")
    if email.text is None and email.html is None:
        raise InvalidPayload("payload needs 'text' or 'html'")
    if not all(isinstance(spec, dict) for spec in email.attachments):
        raise InvalidPayload("payload.attachments must be a list of objects")
    return email


def domains(addresses: list[str]) -> str:
    """A masked summary of addresses for logs: ``***@lab.example, ***@x.example``."""
    return ", ".join(mask_text(parseaddr(a)[1]) for a in addresses)
