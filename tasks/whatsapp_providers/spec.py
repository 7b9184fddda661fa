"""A declarative WhatsApp provider: endpoint per message kind, auth, number format, how success is
read; only the body differs enough to need a small builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.gateways.spec import JSON, PLAIN, Success
from tasks.whatsapp_providers.message import WhatsAppMessage


@dataclass(frozen=True)
class WhatsAppOut:
    """One request: one number in the provider's format, the message, the sender and the config."""

    number: str
    message: WhatsAppMessage
    sender: str | None
    config: Mapping[str, Any]
    reference: str | None = None
    #: The URL comes from job data: it passes the SSRF guard and the request is pinned.
    guard_url: bool = True


Builder = Callable[["Provider", WhatsAppOut], Any]


@dataclass(frozen=True, kw_only=True)
class Provider:
    """A WhatsApp provider definition."""

    name: str
    title: str
    region: str
    url: str
    #: Path per message kind (``template``, ``text``, ``document``); ``*`` for any. Placeholders come
    #: from the config and ``{to}`` from the number.
    paths: dict[str, str]
    encoding: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    required: tuple[str, ...] = ()
    #: Config keys with a documented default (a path placeholder such as Meta's Graph API version);
    #: the config's value, when set, wins.
    defaults: dict[str, str] = field(default_factory=dict)
    number_format: str = PLAIN
    build: Builder
    #: How success is read, per message kind (``*`` for any).
    success: dict[str, Success]
    #: Message kinds it can send.
    kinds: tuple[str, ...] = ("template", "text", "document")
    confidence: str = "M"
    source: str = ""

    def path(self, kind: str) -> str:
        return self.paths.get(kind, self.paths.get("*", ""))

    def success_for(self, kind: str) -> Success:
        return self.success.get(kind) or self.success["*"]
