"""kavenegar: ``KavenegarAPI.sms_send({receptor, message, sender})``."""

from __future__ import annotations

from typing import Any

from kavenegar import KavenegarAPI
from support import host_port, plain_http_to_loopback


def send(job: dict[str, Any]) -> str:
    plain_http_to_loopback()  # the SDK builds https://{host}
    api = KavenegarAPI(job["config"]["api_key"])
    api.host = host_port(job["base_url"])
    params = {"receptor": job["to"], "message": job["text"]}
    if job.get("sender"):
        params["sender"] = job["sender"]
    entries = api.sms_send(params)
    return str(entries[0]["messageid"])
