"""Body builders for gateways whose JSON body is nested (the small "plugins" of the engine)."""

from __future__ import annotations

from typing import Any

from errors import InvalidPayload
from tasks.gateways.spec import Flag, Gateway, Outbound


def flag(gw: Gateway, out: Outbound) -> Flag | None:
    """The gateway's unicode flag value for this text, in the provider's own type (None: omit it)."""
    if gw.unicode is None:
        return None
    _, gsm, ucs2 = gw.unicode
    return ucs2 if out.unicode else gsm


def _template(gw: Gateway, out: Outbound) -> str:
    template = out.template_id or out.config.get("template_id")
    if not template:
        raise InvalidPayload(f"{gw.name}: template_id is required (the provider's template id)")
    return str(template)


def msg91_flow(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """MSG91 Flow (v5): the template holds the sender; the text goes in the ``body`` variable."""
    variables = dict(out.config.get("variables") or {})
    recipients = [{"mobiles": number, "body": out.text, **variables} for number in out.numbers]
    return {"template_id": _template(gw, out), "short_url": "0", "recipients": recipients}


def msg91_v2(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """MSG91 v2 sendsms: ``sms: [{message, to: [...]}]`` with route and DLT id at the top."""
    body: dict[str, Any] = {"sender": out.sender, "route": str(out.config.get("route", "4")), "country": "0"}
    body["unicode"] = flag(gw, out)
    if out.template_id:
        body["DLT_TE_ID"] = out.template_id
    body["sms"] = [{"message": out.text, "to": list(out.numbers)}]
    return body


def karix(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """Karix JsonReceiver: ``{ver, key, messages: [{dest, text, send}]}``."""
    message: dict[str, Any] = {"dest": list(out.numbers), "text": out.text, "send": out.sender}
    if flag(gw, out) is not None:
        message["type"] = flag(gw, out)
    if out.config.get("dlt_entity_id"):
        message["dlt_entity_id"] = out.config["dlt_entity_id"]
    if out.template_id:
        message["dlt_template_id"] = out.template_id
    return {"ver": "1.0", "key": out.config["api_key"], "messages": [message]}


def infobip(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """Infobip SMS v2 advanced: ``messages: [{from, destinations: [{to}], text, regional.indiaDlt}]``."""
    message: dict[str, Any] = {"destinations": [{"to": number} for number in out.numbers], "text": out.text}
    if out.sender:
        message["from"] = out.sender
    if out.config.get("dlt_entity_id") or out.template_id:
        dlt = {"principalEntityId": out.config.get("dlt_entity_id"), "contentTemplateId": out.template_id}
        message["regional"] = {"indiaDlt": {k: v for k, v in dlt.items() if v}}
    return {"messages": [message]}


def d7networks(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """D7 Networks: ``messages: [{recipients, content, data_coding}]`` plus the originator."""
    message: dict[str, Any] = {"channel": "sms", "recipients": list(out.numbers), "content": out.text}
    message["data_coding"] = flag(gw, out)
    return {"messages": [message], "message_globals": {"originator": out.sender or "SignOTP"}}


def clicksend(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """ClickSend: one entry per number in ``messages``."""
    base = {"source": "fusion", "body": out.text, **({"from": out.sender} if out.sender else {})}
    return {"messages": [{**base, "to": number} for number in out.numbers]}


def messente(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """Messente Omnimessage: one number per request, ``messages: [{channel: sms, sender, text}]``."""
    sms: dict[str, Any] = {"channel": "sms", "text": out.text}
    if out.sender:
        sms["sender"] = out.sender
    return {"to": out.numbers[0], "messages": [sms]}


def octopush(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """Octopush: recipients as ``[{phone_number}]``."""
    body: dict[str, Any] = {"recipients": [{"phone_number": n} for n in out.numbers], "text": out.text}
    body.update({"type": out.config.get("type", "sms_premium"), "purpose": "alert"})
    body["sender"] = out.sender or "Octopush"
    return body


def gatewayapi(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """GatewayAPI: recipients as ``[{msisdn}]``; UCS-2 announced as ``UTF-16-BE``."""
    body: dict[str, Any] = {"sender": out.sender, "message": out.text}
    body["recipients"] = [{"msisdn": int(n)} for n in out.numbers]
    if flag(gw, out) is not None:
        body["encoding"] = flag(gw, out)
    return body


def mobishastra(gw: Gateway, out: Outbound) -> list[Any]:
    """Mobishastra: a JSON *array* with one object per number."""
    language = flag(gw, out)
    cred = {"user": out.config["user"], "pwd": out.config["password"]}
    return [{**cred, "number": n, "msg": out.text, "sender": out.sender, "language": language} for n in out.numbers]


def nic(gw: Gateway, out: Outbound) -> dict[str, Any]:
    """NIC SMS gateway: a flat form; a UCS-2 text goes as ``msgType=UC`` with the message written as
    hex UTF-16BE after the byte-order mark (``FEFF092A...``), as NIC's integration guide shows."""
    from tasks.gateways.engine import flat_params  # the engine imports the definitions, which import this

    params = flat_params(gw, out)
    if out.unicode:
        params[gw.message] = "FEFF" + out.text.encode("utf-16-be").hex().upper()
    return params
