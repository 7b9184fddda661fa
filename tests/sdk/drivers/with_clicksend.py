"""clicksend-client: ``SMSApi.send_sms(SendSmsRequest)``."""

from __future__ import annotations

from typing import Any

import clicksend
from clicksend.models.send_sms_request import SendSmsRequest
from clicksend.models.send_sms_request_messages_inner import SendSmsRequestMessagesInner


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    configuration = clicksend.Configuration(
        host=job["base_url"], username=config["username"], password=config["api_key"]
    )
    api = clicksend.SmsApi(clicksend.ApiClient(configuration))
    numbers = [job["to"]] if isinstance(job["to"], str) else job["to"]
    messages = [SendSmsRequestMessagesInner(body=job["text"], to=n, var_from=job.get("sender")) for n in numbers]
    answer = api.send_sms(send_sms_request=SendSmsRequest(messages=messages))
    return str(answer.data.messages[0].message_id)
