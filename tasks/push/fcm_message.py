"""The FCM v1 message options for a push, per platform (arguments of pyfcm's ``parse_payload``)."""

from __future__ import annotations

import json
from typing import Any

from tasks.push.message import Push


def data_strings(data: dict[str, Any]) -> dict[str, str]:
    """FCM data values must be strings: others are JSON-encoded."""
    return {str(k): v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in data.items()}


def android(push: Push) -> dict[str, Any]:
    config: dict[str, Any] = {"priority": "high"}
    if push.collapse_key:
        config["collapse_key"] = push.collapse_key
    if push.ttl is not None:
        config["ttl"] = f"{push.ttl}s"
    notification = {k: v for k, v in (("sound", push.sound), ("notification_count", push.badge)) if v is not None}
    if notification and push.has_alert:
        config["notification"] = notification
    return config


def webpush(push: Push) -> dict[str, Any]:
    headers = {"Urgency": "high"}
    if push.ttl is not None:
        headers["TTL"] = str(push.ttl)
    return {"headers": headers}


def apns(push: Push) -> dict[str, Any]:
    headers = {"apns-priority": "10" if push.has_alert else "5"}
    if push.collapse_key:
        headers["apns-collapse-id"] = push.collapse_key
    aps: dict[str, Any] = {k: v for k, v in (("badge", push.badge), ("sound", push.sound)) if v is not None}
    if not push.has_alert:
        aps["content-available"] = 1
    return {"headers": headers, "payload": {"aps": aps}}


def fcm_kwargs(push: Push) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "notification_title": push.title,
        "notification_body": push.body,
        "notification_image": push.image,
        "data_payload": data_strings(push.data) or None,
    }
    platform_config = {"android": ("android_config", android), "web": ("webpush_config", webpush)}
    name, build = platform_config.get(push.platform, ("apns_config", apns))
    kwargs[name] = build(push)
    return kwargs
