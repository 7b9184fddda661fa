"""twilio: ``Client.messages.create`` (SMS, Messaging Service, WhatsApp)."""

from __future__ import annotations

import json
from typing import Any

from twilio.rest import Client


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    client = Client(config["account_sid"], config["auth_token"])
    client.api.base_url = job["base_url"]
    kwargs: dict[str, Any] = {"to": job["to"]}
    if config.get("messaging_service_sid"):
        kwargs["messaging_service_sid"] = config["messaging_service_sid"]
    if job.get("sender"):
        kwargs["from_"] = job["sender"]
    whatsapp = job.get("whatsapp")
    if whatsapp is None:
        kwargs["body"] = job["text"]
    elif "template" in whatsapp:
        template = whatsapp["template"]
        kwargs["content_sid"] = template["name"]
        variables = {str(i): p for i, p in enumerate(template["params"], start=1)}
        kwargs["content_variables"] = json.dumps(variables)
    elif "text" in whatsapp:
        kwargs["body"] = whatsapp["text"]
    else:
        kwargs["body"] = whatsapp["document"].get("caption") or ""
        kwargs["media_url"] = [whatsapp["document"]["url"]]
    return str(client.messages.create(**kwargs).sid)
