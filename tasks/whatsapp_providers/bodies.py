"""Body builders for Meta-shaped providers (Meta Cloud API, 360dialog), Twilio and Gupshup."""

from __future__ import annotations

import json
from typing import Any

from errors import InvalidPayload
from tasks.whatsapp_providers.message import TEMPLATE, TEXT, Document, Template
from tasks.whatsapp_providers.spec import Provider, WhatsAppOut


def meta_document(document: Document, caption: bool = True) -> dict[str, Any]:
    value = {"link": document.url, "filename": document.filename}
    if caption and document.caption:
        value["caption"] = document.caption
    return value


def meta_components(template: Template) -> list[dict[str, Any]]:
    """Template components: a document header, then the body parameters."""
    components: list[dict[str, Any]] = []
    if template.header_document:
        header = {"type": "document", "document": meta_document(template.header_document, caption=False)}
        components.append({"type": "header", "parameters": [header]})
    if template.params:
        components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in template.params]})
    return components


def meta(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """The Cloud API message object (also 360dialog's)."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": out.number}
    message = out.message
    if message.kind == TEMPLATE and message.template:
        template = message.template
        value = {"name": template.name, "language": {"code": template.language}}
        body.update(type="template", template={**value, "components": meta_components(template)})
    elif message.kind == TEXT:
        body.update(type="text", text={"preview_url": False, "body": message.text})
    elif message.document:
        body.update(type="document", document=meta_document(message.document))
    return body


def twilio(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Twilio: ``whatsapp:`` addresses; a template is a Content SID with numbered variables."""
    body: dict[str, Any] = {"To": f"whatsapp:{out.number}"}
    if out.config.get("messaging_service_sid"):
        body["MessagingServiceSid"] = out.config["messaging_service_sid"]
    if out.sender:
        body["From"] = f"whatsapp:{out.sender}"
    message = out.message
    if message.template:
        if message.template.header_document:
            raise InvalidPayload("twilio: a document header belongs to the Content template, not the payload")
        body["ContentSid"] = message.template.name
        body["ContentVariables"] = json.dumps({str(i): p for i, p in enumerate(message.template.params, start=1)})
    elif message.kind == TEXT:
        body["Body"] = message.text
    elif message.document:
        body.update(Body=message.document.caption or "", MediaUrl=message.document.url)
    return body


def gupshup(provider: Provider, out: WhatsAppOut) -> dict[str, Any]:
    """Gupshup (self-serve API): form fields, the template and message as JSON strings."""
    config = out.config
    body: dict[str, Any] = {"channel": "whatsapp", "source": config["source"], "destination": out.number}
    body["src.name"] = config["app_name"]
    message = out.message
    if message.template:
        body["template"] = json.dumps({"id": message.template.name, "params": list(message.template.params)})
        header = message.template.header_document
        if header:
            document = {"link": header.url, "filename": header.filename}
            body["message"] = json.dumps({"type": "document", "document": document})
    elif message.kind == TEXT:
        body["message"] = json.dumps({"type": "text", "text": message.text})
    elif message.document:
        file = {"type": "file", "url": message.document.url, "filename": message.document.filename}
        if message.document.caption:
            file["caption"] = message.document.caption
        body["message"] = json.dumps(file)
    return body
