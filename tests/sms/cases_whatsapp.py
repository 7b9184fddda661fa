"""WhatsApp providers: the request each documents and the answers it gives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

PLAIN, E164 = "919876543210", "+919876543210"
PDF = {"url": "https://files.example/r/abc.pdf", "filename": "Report-12345.pdf"}
TEMPLATE = {"name": "lab_report_ready", "language": "en", "params": ["Asha", "12 Mar 2026"], "header_document": PDF}
PLAIN_TEMPLATE = {"name": "lab_report_ready", "language": "en", "params": ["Asha", "12 Mar 2026"]}
DOCUMENT = {**PDF, "caption": "Your report"}
META_TEMPLATE = {
    "name": "lab_report_ready", "language": {"code": "en"},
    "components": [
        {"type": "header", "parameters": [{"type": "document", "document": {"link": PDF["url"],
                                                                              "filename": PDF["filename"]}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "12 Mar 2026"}]},
    ],
}
META_HEAD = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": PLAIN}
META_OK = {"messaging_product": "whatsapp", "contacts": [{"input": PLAIN, "wa_id": PLAIN}],
           "messages": [{"id": "wamid.HBgM"}]}
META = {"phone_number_id": "1055", "access_token": "meta-token"}


@dataclass
class WaCase:
    name: str
    provider: str
    config: dict[str, Any]
    message: dict[str, Any]
    path: str
    json: Any = None
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    ok: Any = None
    ok_status: int = 200
    message_id: str = ""
    refusal: Any = None
    refusal_error: str = "ProviderRejected"


CASES = [
    WaCase("meta-template", "meta", META, {"template": TEMPLATE}, "/v21.0/1055/messages",
           json={**META_HEAD, "type": "template", "template": META_TEMPLATE},
           headers={"Authorization": "Bearer meta-token"}, ok=META_OK, message_id="wamid.HBgM",
           refusal={"error": {"message": "(#131047) Re-engagement message", "code": 131047}}),
    WaCase("meta-text", "meta", META, {"text": "Your report is ready"}, "/v21.0/1055/messages",
           json={**META_HEAD, "type": "text", "text": {"preview_url": False, "body": "Your report is ready"}},
           headers={"Authorization": "Bearer meta-token"}, ok=META_OK, message_id="wamid.HBgM"),
    WaCase("meta-document", "meta", META, {"document": DOCUMENT}, "/v21.0/1055/messages",
           json={**META_HEAD, "type": "document", "document": {"link": PDF["url"], "filename": PDF["filename"],
                                                               "caption": "Your report"}},
           headers={"Authorization": "Bearer meta-token"}, ok=META_OK, message_id="wamid.HBgM"),
    WaCase("dialog360-template", "dialog360", {"api_key": "d360-key"}, {"template": TEMPLATE}, "/messages",
           json={**META_HEAD, "type": "template", "template": META_TEMPLATE}, headers={"D360-API-KEY": "d360-key"},
           ok=META_OK, message_id="wamid.HBgM", refusal={"error": {"message": "Template name does not exist"}}),
    WaCase("gupshup-template", "gupshup", {"api_key": "gs-key", "source": "917834811114", "app_name": "LabApp"},
           {"template": TEMPLATE}, "/wa/api/v1/template/msg",
           form={"channel": "whatsapp", "source": "917834811114", "destination": PLAIN, "src.name": "LabApp",
                 "template": json.dumps({"id": "lab_report_ready", "params": ["Asha", "12 Mar 2026"]}),
                 "message": json.dumps({"type": "document", "document": {"link": PDF["url"],
                                                                         "filename": PDF["filename"]}})},
           headers={"apikey": "gs-key"}, ok={"status": "submitted", "messageId": "gs-wa-1"}, ok_status=202,
           message_id="gs-wa-1", refusal={"status": "error", "message": "Invalid Destination"},
           refusal_error="InvalidRecipient"),
    WaCase("gupshup-text", "gupshup", {"api_key": "gs-key", "source": "917834811114", "app_name": "LabApp"},
           {"text": "hello"}, "/wa/api/v1/msg",
           form={"channel": "whatsapp", "source": "917834811114", "destination": PLAIN, "src.name": "LabApp",
                 "message": json.dumps({"type": "text", "text": "hello"})},
           headers={"apikey": "gs-key"}, ok={"status": "submitted", "messageId": "gs-wa-2"}, message_id="gs-wa-2"),
    WaCase("twilio-template", "twilio", {"account_sid": "AC1", "auth_token": "tw-token", "sender": "+14155552671"},
           {"template": {**PLAIN_TEMPLATE, "name": "HX0123456789abcdef"}}, "/2010-04-01/Accounts/AC1/Messages.json",
           form={"To": f"whatsapp:{E164}", "From": "whatsapp:+14155552671", "ContentSid": "HX0123456789abcdef",
                 "ContentVariables": json.dumps({"1": "Asha", "2": "12 Mar 2026"})},
           basic=("AC1", "tw-token"), ok={"sid": "SMwa1", "status": "queued"}, ok_status=201, message_id="SMwa1",
           refusal={"sid": "SMwa2", "status": "failed", "message": "63016 outside the allowed window"}),
    WaCase("twilio-document", "twilio", {"account_sid": "AC1", "auth_token": "tw-token",
                                         "messaging_service_sid": "MG1"},
           {"document": DOCUMENT}, "/2010-04-01/Accounts/AC1/Messages.json",
           form={"To": f"whatsapp:{E164}", "MessagingServiceSid": "MG1", "Body": "Your report",
                 "MediaUrl": PDF["url"]},
           basic=("AC1", "tw-token"), ok={"sid": "SMwa3", "status": "accepted"}, ok_status=201, message_id="SMwa3"),
    WaCase("interakt-template", "interakt", {"api_key": "aW50ZXJha3Q6a2V5"}, {"template": TEMPLATE},
           "/v1/public/message/",
           json={"countryCode": "+91", "phoneNumber": "9876543210", "callbackData": "ref-1", "type": "Template",
                 "template": {"name": "lab_report_ready", "languageCode": "en", "bodyValues": ["Asha", "12 Mar 2026"],
                              "headerValues": [PDF["url"]], "fileName": PDF["filename"]}},
           headers={"Authorization": "Basic aW50ZXJha3Q6a2V5"},
           ok={"result": True, "message": "Message created successfully", "id": "int-1"}, ok_status=201,
           message_id="int-1", refusal={"result": False, "message": "Template not found"}),
    WaCase("wati-template", "wati", {"api_token": "wati-token"}, {"template": PLAIN_TEMPLATE},
           "/api/v2/sendTemplateMessage", query={"whatsappNumber": PLAIN},
           json={"template_name": "lab_report_ready", "broadcast_name": "fusion",
                 "parameters": [{"name": "1", "value": "Asha"}, {"name": "2", "value": "12 Mar 2026"}]},
           headers={"Authorization": "Bearer wati-token"},
           ok={"result": True, "error": None, "templateName": "lab_report_ready",
               "receivers": [{"localMessageId": "d38f0c3a", "waId": PLAIN, "isValidWhatsAppNumber": True, "errors": []}]},
           message_id="d38f0c3a",
           refusal={"result": True, "error": None, "receivers": [
               {"localMessageId": "x", "waId": PLAIN, "isValidWhatsAppNumber": False, "errors": ["Invalid number"]}]},
           refusal_error="InvalidRecipient"),
    WaCase("infobip-template", "infobip", {"api_key": "ib-key", "sender": "441134960000"}, {"template": TEMPLATE},
           "/whatsapp/1/message/template",
           json={"messages": [{"from": "441134960000", "to": PLAIN, "content": {
               "templateName": "lab_report_ready", "language": "en",
               "templateData": {"body": {"placeholders": ["Asha", "12 Mar 2026"]},
                                "header": {"type": "DOCUMENT", "mediaUrl": PDF["url"], "filename": PDF["filename"]}}}}]},
           headers={"Authorization": "App ib-key"},
           ok={"messages": [{"to": PLAIN, "messageCount": 1, "messageId": "ib-wa-1",
                             "status": {"groupName": "PENDING"}}], "bulkId": "b1"},
           message_id="ib-wa-1",
           refusal={"messages": [{"status": {"groupName": "REJECTED", "description": "Template not approved"}}]}),
    WaCase("infobip-document", "infobip", {"api_key": "ib-key", "sender": "441134960000"}, {"document": DOCUMENT},
           "/whatsapp/1/message/document",
           json={"from": "441134960000", "to": PLAIN,
                 "content": {"mediaUrl": PDF["url"], "filename": PDF["filename"], "caption": "Your report"}},
           headers={"Authorization": "App ib-key"},
           ok={"to": PLAIN, "messageCount": 1, "messageId": "ib-wa-2", "status": {"groupName": "PENDING"}},
           message_id="ib-wa-2", refusal={"status": {"groupName": "REJECTED", "description": "Outside 24h window"}}),
    WaCase("msg91-template", "msg91", {"auth_key": "m91-key", "sender": "918123456789", "namespace": "ns-1"},
           {"template": TEMPLATE}, "/api/v5/whatsapp/whatsapp-outbound-message/bulk/",
           json={"integrated_number": "918123456789", "content_type": "template", "payload": {
               "messaging_product": "whatsapp", "type": "template", "template": {
                   "name": "lab_report_ready", "language": {"code": "en", "policy": "deterministic"},
                   "namespace": "ns-1", "to_and_components": [{"to": [PLAIN], "components": {
                       "header_1": {"type": "document", "value": PDF["url"], "filename": PDF["filename"]},
                       "body_1": {"type": "text", "value": "Asha"}, "body_2": {"type": "text", "value": "12 Mar 2026"}}}]}}},
           headers={"authkey": "m91-key"}, ok={"status": "success", "request_id": "m91-wa-1"}, message_id="m91-wa-1",
           refusal={"status": "fail", "errors": "Template not found"}),
    WaCase("karix-template", "karix", {"api_token": "kx-token", "sender": "918123456789"}, {"template": TEMPLATE},
           "/services/rcm/sendMessage",
           json={"message": {"channel": "WABA", "content": {"type": "MEDIA_TEMPLATE", "mediaTemplate": {
               "templateId": "lab_report_ready", "bodyParameterValues": {"0": "Asha", "1": "12 Mar 2026"},
               "media": {"type": "document", "url": PDF["url"], "fileName": PDF["filename"]}}},
               "recipient": {"to": PLAIN, "recipient_type": "individual", "reference": {"cust_ref": "ref-1"}},
               "sender": {"from": "918123456789"}, "preferences": {"webHookDNId": "1001"}},
               "metaData": {"version": "v1.0.9"}},
           headers={"Authentication": "Bearer kx-token"}, ok={"mid": "kx-1", "statusCode": "200"}, message_id="kx-1",
           refusal={"error": {"code": "401", "message": "Invalid token"}}),
]
# fmt: on
