"""infobip-api-python-sdk (Infobip's community SDK): ``SMSChannel.send_sms_message`` and
``WhatsAppChannel.send_template_message`` / ``send_text_message`` / ``send_document_message``.

The SDK returns an error model (``SMSResponseError``, ``WhatsAppResponseError``) instead of
raising for the statuses it knows; the driver reports those as the SDK's refusal."""

from __future__ import annotations

from typing import Any

from infobip_channels.sms.channel import SMSChannel
from infobip_channels.whatsapp.channel import WhatsAppChannel


def sms(job: dict[str, Any], auth: dict[str, str]) -> Any:
    numbers = [job["to"]] if isinstance(job["to"], str) else job["to"]
    message: dict[str, Any] = {"destinations": [{"to": n} for n in numbers], "text": job["text"]}
    if job.get("sender"):
        message["from"] = job["sender"]
    dlt = {"principalEntityId": job.get("dlt_entity_id"), "contentTemplateId": job.get("template_id")}
    if any(dlt.values()):
        message["regional"] = {"indiaDlt": {k: v for k, v in dlt.items() if v}}
    return SMSChannel.from_auth_params(auth).send_sms_message({"messages": [message]})


def whatsapp(job: dict[str, Any], auth: dict[str, str]) -> Any:
    channel = WhatsAppChannel.from_auth_params(auth)
    wa, head = job["whatsapp"], {"from": job["sender"], "to": job["to"]}
    if "template" in wa:
        template = wa["template"]
        data: dict[str, Any] = {"body": {"placeholders": template["params"]}}
        document = template.get("header_document")
        if document:
            data["header"] = {"type": "DOCUMENT", "mediaUrl": document["url"], "filename": document["filename"]}
        content = {"templateName": template["name"], "templateData": data, "language": template["language"]}
        return channel.send_template_message({"messages": [{**head, "content": content}]})
    if "text" in wa:
        return channel.send_text_message({**head, "content": {"text": wa["text"]}})
    document = wa["document"]
    content = {"mediaUrl": document["url"], "filename": document["filename"], "caption": document.get("caption")}
    return channel.send_document_message({**head, "content": content})


def send(job: dict[str, Any]) -> str:
    auth = {"base_url": job["base_url"], "api_key": job["config"]["api_key"]}
    answer = whatsapp(job, auth) if job.get("whatsapp") else sms(job, auth)
    if type(answer).__name__.endswith("ResponseError"):
        raise RuntimeError(f"{type(answer).__name__}: HTTP {answer.status_code}")
    return str(answer.messages[0].message_id if hasattr(answer, "messages") else answer.message_id)
