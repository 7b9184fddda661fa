"""Reading a task dict: ``{"payload": {"task": <channel code>, ...}, "reference": ...}``."""

from __future__ import annotations

from typing import Any

from errors import InvalidPayload
from rq_ext.contract import CHANNEL_NAMES, EMAIL, PUSH, SMS, WEBHOOK, WHATSAPP

__all__ = ["CHANNEL_NAMES", "EMAIL", "PUSH", "SMS", "WEBHOOK", "WHATSAPP", "channel_of", "payload_of"]


def payload_of(task: Any, expected: int | None = None) -> dict[str, Any]:
    """The task's payload dict, checked to carry the expected channel code."""
    if not isinstance(task, dict):
        raise InvalidPayload(f"task must be a dict, got {type(task).__name__}")
    payload = task.get("payload")
    if not isinstance(payload, dict):
        raise InvalidPayload("task has no 'payload' dict")
    code = channel_of(payload)
    if expected is not None and code != expected:
        raise InvalidPayload(f"payload.task is {code}, expected {expected} ({CHANNEL_NAMES[expected]})")
    return payload


def channel_of(payload: dict[str, Any]) -> int:
    code = payload.get("task")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool) or code not in CHANNEL_NAMES:
        raise InvalidPayload(f"payload.task must be a channel code 1-5, got {code!r}")
    return code


def require(payload: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    """A required field of the payload, of the given type."""
    value = payload.get(name)
    if value is None or value == "":
        raise InvalidPayload(f"payload.{name} is missing")
    if not isinstance(value, kind):
        raise InvalidPayload(f"payload.{name} has the wrong type ({type(value).__name__})")
    return value


def optional(payload: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """An optional field of the payload, of the given type when present."""
    value = payload.get(name, default)
    if value is not None and not isinstance(value, kind):
        raise InvalidPayload(f"payload.{name} has the wrong type ({type(value).__name__})")
    return value
