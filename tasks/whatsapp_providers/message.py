"""The WhatsApp message of a payload: exactly one of ``template``, ``text`` or ``document``.

Everything is checked before any request; empty template parameters are refused here (providers
answer them with HTTP 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from errors import InvalidPayload

TEMPLATE, TEXT, DOCUMENT = "template", "text", "document"


@dataclass(frozen=True)
class Document:
    """A document by public URL (a PDF report), its file name and an optional caption."""

    url: str
    filename: str
    caption: str | None = None


@dataclass(frozen=True)
class Template:
    """An approved template: name, language, body parameters, optional document header."""

    name: str
    language: str
    params: tuple[str, ...]
    header_document: Document | None = None


@dataclass(frozen=True)
class WhatsAppMessage:
    """What a WhatsApp job sends."""

    kind: str
    template: Template | None = None
    text: str | None = None
    document: Document | None = None

    @property
    def body_text(self) -> str:
        """The free text of the message, if any (text body or document caption)."""
        if self.text:
            return self.text
        return (self.document.caption or "") if self.document else ""


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"{where} must be a non-empty string")
    return value


def document_of(value: Any, where: str) -> Document:
    """A ``{url, filename, caption}`` object."""
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where} must be an object with url and filename")
    url = _text(value.get("url"), f"{where}.url")
    if not url.startswith(("https://", "http://")):
        raise InvalidPayload(f"{where}.url must be an http(s) URL")
    caption = value.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise InvalidPayload(f"{where}.caption must be a string")
    return Document(url, _text(value.get("filename"), f"{where}.filename"), caption or None)


def template_of(value: Any) -> Template:
    """A ``{name, language, params, header_document}`` object."""
    if not isinstance(value, dict):
        raise InvalidPayload("payload.template must be an object")
    params = value.get("params") or []
    if not isinstance(params, list):
        raise InvalidPayload("payload.template.params must be a list")
    texts = tuple(_text(p if not isinstance(p, (int, float)) else str(p), "payload.template.params[]") for p in params)
    header = value.get("header_document")
    return Template(
        _text(value.get("name"), "payload.template.name"),
        str(value.get("language") or "en"),
        texts,
        document_of(header, "payload.template.header_document") if header is not None else None,
    )


def message_of(payload: dict[str, Any]) -> WhatsAppMessage:
    """The message of a WhatsApp payload."""
    present = [kind for kind in (TEMPLATE, TEXT, DOCUMENT) if payload.get(kind) not in (None, "")]
    if len(present) != 1:
        raise InvalidPayload("payload must have exactly one of template, text or document")
    kind = present[0]
    if kind == TEMPLATE:
        return WhatsAppMessage(TEMPLATE, template=template_of(payload[TEMPLATE]))
    if kind == TEXT:
        return WhatsAppMessage(TEXT, text=_text(payload[TEXT], "payload.text"))
    return WhatsAppMessage(DOCUMENT, document=document_of(payload[DOCUMENT], "payload.document"))
