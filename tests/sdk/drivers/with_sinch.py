"""sinch: ``SinchClient(service_plan_id, sms_api_token).sms.batches.send_sms``."""

from __future__ import annotations

from typing import Any

from sinch import SinchClient


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    client = SinchClient(service_plan_id=config["service_plan_id"], sms_api_token=config["api_token"], sms_region="us")
    client.configuration.sms_domain_with_service_plan_id = job["base_url"]
    numbers = [job["to"]] if isinstance(job["to"], str) else job["to"]
    batch = client.sms.batches.send_sms(to=numbers, from_=job["sender"], body=job["text"])
    return str(batch.id)
