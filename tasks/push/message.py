"""The push a payload describes.

``{"task": 3, "platform": "android" | "ios" | "web", "tokens": [...], "title", "body", "data": {...},
"badge": 1, "sound": "default", "image": "https://...", "collapse_key": "...", "ttl": seconds,
"config": {"account": ..., "fcm": {...}, "apns": {...}}}``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config import get_settings
from errors import ConfigurationError, InvalidPayload, InvalidRecipient
from tasks.payload import optional, require

PLATFORMS = ("android", "ios", "web")
#: Upper bound on tokens per job (one job is one notification to one person's devices).
MAX_TOKENS = 1000


@dataclass(frozen=True)
class Push:
    platform: str
    tokens: list[str]
    title: str | None
    body: str | None
    data: dict[str, Any]
    badge: int | None
    sound: str | None
    image: str | None
    collapse_key: str | None
    ttl: int | None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def has_alert(self) -> bool:
        return bool(self.title or self.body)


def tokens_of(payload: dict[str, Any]) -> list[str]:
    raw = require(payload, "tokens", (list, str))
    values = [raw] if isinstance(raw, str) else raw
    tokens = list(dict.fromkeys(str(t).strip() for t in values if isinstance(t, str) and t.strip()))
    if not tokens:
        raise InvalidRecipient("payload.tokens has no device token")
    if len(tokens) > MAX_TOKENS:
        raise InvalidPayload(f"payload.tokens has {len(tokens)} tokens; at most {MAX_TOKENS} per job")
    return tokens


def push_config(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload.config`` merged over ``PUSH_ACCOUNTS[config.account]`` (per provider section)."""
    config = dict(optional(payload, "config", dict, {}) or {})
    name = config.pop("account", None)
    if not name:
        return config
    account = get_settings().PUSH_ACCOUNTS.get(name)
    if not isinstance(account, dict):
        raise ConfigurationError(f"push account {name!r} is not in PUSH_ACCOUNTS")
    merged = {key: dict(value) for key, value in account.items() if isinstance(value, dict)}
    for key, value in config.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def parse_push(payload: dict[str, Any]) -> Push:
    platform = str(require(payload, "platform", str)).lower()
    if platform not in PLATFORMS:
        raise InvalidPayload(f"payload.platform must be one of {', '.join(PLATFORMS)}")
    ttl = optional(payload, "ttl", int)
    badge = optional(payload, "badge", int)
    if (ttl is not None and ttl < 0) or (badge is not None and badge < 0):
        raise InvalidPayload("payload.ttl and payload.badge must not be negative")
    push = Push(
        platform=platform,
        tokens=tokens_of(payload),
        title=optional(payload, "title", str),
        body=optional(payload, "body", str),
        data=optional(payload, "data", dict, {}) or {},
        badge=badge,
        sound=optional(payload, "sound", str),
        image=optional(payload, "image", str),
        collapse_key=optional(payload, "collapse_key", str),
        ttl=ttl,
        config=push_config(payload),
    )
    if not push.has_alert and not push.data:
        raise InvalidPayload("payload needs a title, a body or data")
    return push
