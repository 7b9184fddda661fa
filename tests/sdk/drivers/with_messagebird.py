"""messagebird: ``Client.message_create(originator, recipients, body, params)``."""

from __future__ import annotations

from typing import Any

import messagebird
from messagebird import client as messagebird_client


def send(job: dict[str, Any]) -> str:
    messagebird_client.ENDPOINT = job["base_url"]  # the SDK's host constant
    client = messagebird.Client(job["config"]["access_key"])
    params = {"datacoding": "unicode"} if job.get("unicode") else {}
    numbers = [job["to"]] if isinstance(job["to"], str) else job["to"]
    message = client.message_create(job["sender"], numbers, job["text"], params)
    return str(message.id)
