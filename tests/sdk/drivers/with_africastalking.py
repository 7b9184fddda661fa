"""africastalking: ``SMSService.send(message, recipients, sender_id)``."""

from __future__ import annotations

from typing import Any

from africastalking.SMS import SMSService


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    service = SMSService(config["username"], config["api_key"])
    service._baseUrl = job["base_url"] + "/version1"  # the SDK's production host, made loopback
    numbers = [job["to"]] if isinstance(job["to"], str) else job["to"]
    answer = service.send(job["text"], numbers, sender_id=job.get("sender"))
    return str(answer["SMSMessageData"]["Recipients"][0]["messageId"])  # the SDK returns the answer as is
