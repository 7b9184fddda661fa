"""Which gateway and credentials a payload (or one of its fallbacks) names.

``{"gateway": ..., "config": {...}}`` carries credentials inline; ``{"account": "<name>"}`` names
an entry of ``SMS_ACCOUNTS`` / ``WHATSAPP_ACCOUNTS`` (``{"gateway": ..., <credentials>}``), so
secrets need not travel in Redis. Inline ``config`` keys, when both are given, win.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from errors import ConfigurationError, InvalidPayload

#: Config keys that name the host a request goes to (``host``: the SMPP gateway's SMSC).
URL_KEYS = ("base_url", "url", "endpoint_url", "host")


@dataclass(frozen=True)
class Account:
    """A gateway name, its config, and a label safe to log (account name or config hash).

    ``trusted`` holds the config keys that came from operator settings (``SMS_ACCOUNTS``...) and
    were not overridden by the payload; a URL under any other key is job data and passes the
    SSRF guard."""

    gateway: str
    config: dict[str, Any]
    label: str
    trusted: frozenset[str] = frozenset()

    @property
    def url_from_job(self) -> bool:
        """Whether the host this account sends to comes from job data (payload config)."""
        return any(self.config.get(key) and key not in self.trusted for key in URL_KEYS)

    @property
    def key(self) -> str:
        """The rate-limit identity: gateway plus account."""
        return f"{self.gateway}:{self.label}"


def _fingerprint(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, default=str)
    return "cfg-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _field(entry: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = entry.get(name)
    if value is not None and not isinstance(value, kind):
        raise InvalidPayload(f"{where}.{name} has the wrong type ({type(value).__name__})")
    return value


def resolve(entry: Any, accounts: dict[str, Any], setting: str, where: str = "payload") -> Account:
    """The account an entry names, inline or from settings."""
    if not isinstance(entry, dict):
        raise InvalidPayload(f"{where} must be an object")
    gateway = _field(entry, "gateway", str, where)
    config = dict(_field(entry, "config", dict, where) or {})
    name = _field(entry, "account", str, where)
    if not name:
        if not gateway:
            raise InvalidPayload(f"{where}.gateway is missing (or name an account)")
        return Account(gateway.strip().lower(), config, _fingerprint(config))
    stored = accounts.get(name)
    if not isinstance(stored, dict):
        raise ConfigurationError(f"unknown account {name!r} (not in {setting})")
    stored = dict(stored)
    stored_gateway = str(stored.pop("gateway", "") or "").strip().lower()
    if gateway and stored_gateway and gateway.strip().lower() != stored_gateway:
        raise ConfigurationError(f"account {name!r} is for gateway {stored_gateway!r}, not {gateway!r}")
    chosen = (gateway or stored_gateway).strip().lower()
    if not chosen:
        raise ConfigurationError(f"account {name!r} in {setting} names no gateway")
    return Account(chosen, {**stored, **config}, name, frozenset(stored) - frozenset(config))


def resolve_all(payload: dict[str, Any], accounts: dict[str, Any], setting: str) -> list[Account]:
    """The payload's own account followed by its ``fallback`` entries, in order."""
    fallback = payload.get("fallback") or []
    if not isinstance(fallback, list):
        raise InvalidPayload("payload.fallback must be a list")
    first = resolve(payload, accounts, setting)
    return [first] + [resolve(e, accounts, setting, f"payload.fallback[{i}]") for i, e in enumerate(fallback)]
