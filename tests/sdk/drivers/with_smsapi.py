"""smsapi-client: ``Client.sms.send(to, message, from_)``."""

from __future__ import annotations

from typing import Any

from smsapi.client import Client


def send(job: dict[str, Any]) -> str:
    client = Client(job["base_url"] + "/", access_token=job["config"]["api_token"])  # SmsApiPlClient's domain
    kwargs: dict[str, Any] = {"to": job["to"], "message": job["text"]}  # a list: the SDK joins it with ","
    if job.get("sender"):
        kwargs["from_"] = job["sender"]
    answer = client.sms.send(**kwargs)
    return str(answer.results[0].id)
