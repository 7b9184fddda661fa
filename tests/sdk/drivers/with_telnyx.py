"""telnyx: ``Telnyx.messages.send(from_, to, text)``."""

from __future__ import annotations

from typing import Any

from telnyx import Telnyx


def send(job: dict[str, Any]) -> str:
    client = Telnyx(api_key=job["config"]["api_key"], base_url=job["base_url"] + "/v2", max_retries=0)
    answer = client.messages.send(from_=job["sender"], to=job["to"], text=job["text"])
    return str(answer.data.id)
