"""vonage (vonage-sms): ``Vonage.sms.send(SmsMessage)``."""

from __future__ import annotations

from typing import Any

from support import host_port, plain_http_to_loopback
from vonage import Auth, HttpClientOptions, Vonage
from vonage_sms import SmsMessage


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    plain_http_to_loopback()  # the SDK builds https://{rest_host}
    options = HttpClientOptions(rest_host=host_port(job["base_url"]))
    client = Vonage(Auth(api_key=config["api_key"], api_secret=config["api_secret"]), options)
    fields: dict[str, Any] = {"to": job["to"], "from_": job["sender"], "text": job["text"]}
    if job.get("unicode"):
        fields["type"] = "unicode"
    if job.get("dlt_entity_id"):
        fields["entity_id"] = job["dlt_entity_id"]
    if job.get("template_id"):
        fields["content_id"] = job["template_id"]
    response = client.sms.send(SmsMessage(**fields))
    return str(response.messages[0].message_id)
