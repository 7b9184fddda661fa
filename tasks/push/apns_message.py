"""The APNs request for a push: headers and the JSON payload (``aps`` plus custom data)."""

from __future__ import annotations

import json
import time
from typing import Any

from errors import InvalidPayload
from tasks.push.message import Push

#: APNs refuses payloads over 4 KB (PayloadTooLarge) and collapse ids over 64 bytes.
MAX_PAYLOAD_BYTES = 4096
MAX_COLLAPSE_ID_BYTES = 64


def apns_headers(push: Push, topic: str | None, now: float | None = None) -> dict[str, str]:
    """``apns-push-type``, ``apns-priority`` and, when known, topic, expiration and collapse id."""
    headers = {
        "apns-push-type": "alert" if push.has_alert else "background",
        "apns-priority": "10" if push.has_alert else "5",
    }
    if topic:
        headers["apns-topic"] = topic
    if push.ttl is not None:
        issued = int(time.time() if now is None else now)
        headers["apns-expiration"] = "0" if push.ttl == 0 else str(issued + push.ttl)
    if push.collapse_key:
        if len(push.collapse_key.encode()) > MAX_COLLAPSE_ID_BYTES:
            raise InvalidPayload(f"payload.collapse_key is over {MAX_COLLAPSE_ID_BYTES} bytes (apns-collapse-id)")
        headers["apns-collapse-id"] = push.collapse_key
    return headers


def aps(push: Push) -> dict[str, Any]:
    body: dict[str, Any] = {}
    alert = {k: v for k, v in (("title", push.title), ("body", push.body)) if v}
    if alert:
        body["alert"] = alert
    if push.badge is not None:
        body["badge"] = push.badge
    if push.sound:
        body["sound"] = push.sound
    if push.image:
        body["mutable-content"] = 1
    if not alert:
        body["content-available"] = 1
    return body


def apns_payload(push: Push) -> bytes:
    """``{"aps": {...}, <data>...}`` as compact UTF-8 JSON, checked against the 4 KB limit."""
    document: dict[str, Any] = {k: v for k, v in push.data.items() if k != "aps"}
    if push.image:
        document.setdefault("image", push.image)
    document["aps"] = aps(push)
    encoded = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise InvalidPayload(f"APNs payload is {len(encoded)} bytes, over {MAX_PAYLOAD_BYTES}")
    return encoded
