"""Body builders for Interakt, Wati, Infobip, MSG91 and Karix."""

from __future__ import annotations

from typing import Any

import phonenumbers

from errors import InvalidPayload
from tasks.whatsapp_providers.message import TEMPLATE, TEXT
from tasks.whatsapp_providers.spec import Provider, WhatsAppOut

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off


def interakt(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Interakt: country code and national number apart; ``Template`` / ``Text`` / ``Document``."""
    number = phonenumbers.parse(out.number)
    body: dict[str, Any] = {"countryCode": f"+{number.country_code}"}
    body["phoneNumber"] = phonenumbers.national_significant_number(number)
    if out.reference:
        body["callbackData"] = out.reference
    message = out.message
    if message.template:
        template: dict[str, Any] = {"name": message.template.name, "languageCode": message.template.language}
        template["bodyValues"] = list(message.template.params)
        if message.template.header_document:
            template["headerValues"] = [message.template.header_document.url]
            template["fileName"] = message.template.header_document.filename
        body.update(type="Template", template=template)
    elif message.kind == TEXT:
        body.update(type="Text", data={"message": message.text})
    elif message.document:
        data = {"message": message.document.caption or "", "mediaUrl": message.document.url}
        body.update(type="Document", data={**data, "fileName": message.document.filename})
    return body


def wati(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Wati ``sendTemplateMessage``: positional params become parameters named 1, 2, ..."""
    template = out.message.template
    if template is None or template.header_document:
        raise InvalidPayload("wati: only template messages without a document header are supported")
    parameters = [{"name": str(i), "value": p} for i, p in enumerate(template.params, start=1)]
    broadcast = str(out.config.get("broadcast_name") or "fusion")
    return {"template_name": template.name, "broadcast_name": broadcast, "parameters": parameters}


def infobip(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Infobip WhatsApp: a ``messages`` list for templates, one object for text and documents."""
    message = out.message
    if message.kind == TEMPLATE and message.template:
        data: dict[str, Any] = {"body": {"placeholders": list(message.template.params)}}
        header = message.template.header_document
        if header:
            data["header"] = {"type": "DOCUMENT", "mediaUrl": header.url, "filename": header.filename}
        content = {"templateName": message.template.name, "templateData": data, "language": message.template.language}
        return {"messages": [{"from": out.sender, "to": out.number, "content": content}]}
    if message.kind == TEXT:
        return {"from": out.sender, "to": out.number, "content": {"text": message.text}}
    assert message.document is not None
    document = {"mediaUrl": message.document.url, "filename": message.document.filename}
    if message.document.caption:
        document["caption"] = message.document.caption
    return {"from": out.sender, "to": out.number, "content": document}


def msg91(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """MSG91 bulk outbound: components keyed ``header_1``, ``body_1``, ``body_2`` ..."""
    template = out.message.template
    assert template is not None
    components: dict[str, Any] = {f"body_{i}": {"type": "text", "value": p} for i, p in enumerate(template.params, 1)}
    if template.header_document:
        doc = template.header_document
        components = {"header_1": {"type": "document", "value": doc.url, "filename": doc.filename}, **components}
    value: dict[str, Any] = {"name": template.name, "language": {"code": template.language, "policy": "deterministic"}}
    if out.config.get("namespace"):
        value["namespace"] = out.config["namespace"]
    value["to_and_components"] = [{"to": [out.number], "components": components}]
    payload = {"messaging_product": "whatsapp", "type": "template", "template": value}
    return {"integrated_number": out.sender, "content_type": "template", "payload": payload}


def karix(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Karix RCM ``sendMessage``: parameter values keyed "0", "1", ...; a document header as a media template."""
    template = out.message.template
    assert template is not None
    values = {str(i): p for i, p in enumerate(template.params)}
    content: dict[str, Any] = {"type": "TEMPLATE", "template": {"templateId": template.name, "parameterValues": values}}
    if template.header_document:
        media = {"type": "document", "url": template.header_document.url, "fileName": template.header_document.filename}
        content = {"type": "MEDIA_TEMPLATE", "mediaTemplate": {"templateId": template.name, "media": media,
                                                               "bodyParameterValues": values}}
    recipient = {"to": out.number, "recipient_type": "individual", "reference": {"cust_ref": out.reference or "fusion"}}
    message = {"channel": "WABA", "content": content, "recipient": recipient, "sender": {"from": out.sender}}
    return {"message": {**message, "preferences": {"webHookDNId": "1001"}}, "metaData": {"version": "v1.0.9"}}
# fmt: on
