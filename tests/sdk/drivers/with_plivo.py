"""plivo: ``RestClient.messages.create`` (src, dst, text, DLT fields)."""

from __future__ import annotations

from typing import Any

import plivo
from plivo.rest import client as plivo_client


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    plivo_client.PLIVO_API_BASE_URI = job["base_url"] + "/v1/Account"  # the SDK's host constant
    client = plivo.RestClient(config["auth_id"], config["auth_token"])
    to = job["to"] if isinstance(job["to"], str) else "<".join(job["to"])  # the SDK's dst separator
    kwargs: dict[str, Any] = {"src": job["sender"], "dst": to, "text": job["text"]}
    if job.get("dlt_entity_id"):
        kwargs["dlt_entity_id"] = job["dlt_entity_id"]
    if job.get("template_id"):
        kwargs["dlt_template_id"] = job["template_id"]
    response = client.messages.create(**kwargs)
    return str(response.message_uuid[0])
