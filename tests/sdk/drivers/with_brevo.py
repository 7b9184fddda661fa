"""brevo-python: ``Brevo.transactional_sms.send_transac_sms``."""

from __future__ import annotations

from typing import Any

from brevo import Brevo


def send(job: dict[str, Any]) -> str:
    client = Brevo(api_key=job["config"]["api_key"], base_url=job["base_url"] + "/v3")
    kwargs: dict[str, Any] = {"recipient": job["to"], "sender": job["sender"], "content": job["text"]}
    kwargs["type"] = "transactional"
    if job.get("unicode"):
        kwargs["unicode_enabled"] = True
    answer = client.transactional_sms.send_transac_sms(**kwargs)
    return str(answer.message_id)
