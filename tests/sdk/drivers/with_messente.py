"""messente-api: ``OmnimessageApi.send_omnimessage(Omnimessage(to, messages=[SMS]))``."""

from __future__ import annotations

from typing import Any

from messente_api import SMS, ApiClient, Configuration, Omnimessage, OmnimessageApi, OmnimessageMessagesInner


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    configuration = Configuration(
        host=job["base_url"] + "/v1", username=config["username"], password=config["password"]
    )
    api = OmnimessageApi(ApiClient(configuration))
    sms = SMS(sender=job["sender"], text=job["text"])
    answer = api.send_omnimessage(Omnimessage(to=job["to"], messages=[OmnimessageMessagesInner(sms)]))
    return str(answer.messages[0].message_id)
