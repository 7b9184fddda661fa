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
    message = SendSmsRequestMessagesInner(body=job["text"], to=job["to"], var_from=job.get("sender"))
    answer = api.send_sms(send_sms_request=SendSmsRequest(messages=[message]))
    return str(answer.data.messages[0].message_id)
