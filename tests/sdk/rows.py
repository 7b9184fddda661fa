"""One row per provider with an official Python SDK: the SDK (pinned in requirements-sdk.txt), how
its request is compared with the gateway's, and the provider's documented answers.

``fields`` names where the recipient, sender, text, Unicode flag and DLT ids are in the
normalised request (see compare.py), and is checked on the SDK's request; ``ignore`` lists what
the SDK always sends and the gateway does not (or the reverse), each with its reason in
``ignored``. ``notes`` says what differed and what was changed in the gateway's definition.
Answers come from the SDK's own tests or the provider's API reference, as ``source`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Declarative tables: one packed row per provider, kept as written.
# fmt: off

PLAIN, E164 = "919876543210", "+919876543210"
US = "+14155552671"
ENTITY, TEMPLATE = "1201159100000000001", "1207161234567890123"
GSM, UCS2, DLT, PAIR = "gsm", "ucs2", "dlt", "pair"
#: The second number of the ``pair`` variant (two numbers in one request), as the gateway writes it.
OTHER_PLAIN, OTHER_E164 = "919123456780", "+919123456780"


@dataclass(frozen=True)
class Answer:
    """A documented answer of the provider, replayed to both the SDK and the gateway."""

    name: str
    status: int
    body: Any
    #: ``accepted`` or the class in errors.py the gateway must raise.
    outcome: str
    message_id: str = ""
    #: Whether the SDK itself treats the answer as a success (returns instead of raising).
    sdk_ok: bool = False
    source: str = ""


@dataclass(frozen=True)
class Row:
    """One provider's SDK conformance case."""

    name: str
    gateway: str
    sdk: str
    driver: str
    config: dict[str, Any]
    #: Config keys whose values become ``<key>`` placeholders (credential placement is compared).
    credentials: tuple[str, ...]
    #: The number as the SDK is given it, and where the roles are in the normalised request.
    number: str
    fields: dict[str, str]
    answers: tuple[Answer, ...]
    channel: str = "sms"
    #: ``(path, value sent for UCS-2)`` of the Unicode flag, when the SDK has one.
    unicode: tuple[str, Any] | None = None
    variants: tuple[str, ...] = (GSM, UCS2)
    #: Headers compared besides those carrying a credential and the content type.
    headers: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ignored: str = ""
    #: The ``pair`` variant: both numbers as the SDK is given them (a list; the SDK joins or lists them).
    pair: tuple[str, str] | None = None
    #: WhatsApp: the message of the payload (``template``, ``text`` or ``document``).
    whatsapp: dict[str, Any] = field(default_factory=dict)
    #: The sender as the SDK is given it, when it is not the config's (``whatsapp:+1...``).
    sdk_sender: str | None = None
    #: The SDK environment: ``.venv-<venv>``, from ``requirements-<venv>.txt``.
    venv: str = "sdk"
    #: JSON nulls count as absent (the SDK sends every optional field as null).
    nulls_absent: bool = False
    notes: str = ""

    @property
    def sender(self) -> str | None:
        return self.sdk_sender or self.config.get("sender")


def ok(name: str, status: int, body: Any, message_id: str, source: str) -> Answer:
    return Answer(name, status, body, "accepted", message_id, sdk_ok=True, source=source)


TWILIO_CONFIG = {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-auth-token"}
TWILIO_PATH = "/2010-04-01/Accounts/<account_sid>/Messages.json"
TWILIO_DOCS = "twilio.com/docs/messaging/api/message-resource#create-a-message-resource"
TWILIO_ANSWERS = (
    ok("queued", 201, {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued", "to": E164,
                       "num_segments": "1", "error_code": None}, "SM1f0e8ae6ade43cb3c0ce4525424e404f", TWILIO_DOCS),
    Answer("invalid To (21211)", 400, {"code": 21211, "message": "The 'To' number +919876543210 is not a valid phone number.",
                                       "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400},
           "InvalidRecipient", source="twilio.com/docs/errors/21211"),
    Answer("too many requests (20429)", 429, {"code": 20429, "message": "Too Many Requests",
                                              "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429},
           "RateLimited", source="twilio.com/docs/errors/20429"),
)
TWILIO_FIELDS = {"to": "body.To", "text": "body.Body", "sender": "body.From"}
VONAGE_SMS = "github.com/Vonage/vonage-python-sdk sms/tests/data"
MESSENTE_DOCS = "messente.com/documentation/omnichannel-api (messente-api README)"

INFOBIP = "infobip-api-python-sdk==5.0.1"
INFOBIP_WA = {"api_key": "ib-api-key", "sender": "441134960000"}
INFOBIP_PENDING = {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED",
                   "description": "Message sent to next instance"}
INFOBIP_UNAUTHORIZED = Answer("unauthorized (401)", 401, {"requestError": {"serviceException": {
    "messageId": "UNAUTHORIZED", "text": "Invalid login details"}}}, "ProviderRejected",
    source="infobip.com/docs/essentials/api-essentials/response-status-and-error-codes")
PDF = {"url": "https://files.example/r/abc.pdf", "filename": "Report-12345.pdf"}
WA_TEMPLATE = {"name": "lab_report_ready", "language": "en", "params": ["Asha", "12 Mar 2026"]}

ROWS = [
    Row(
        "twilio", "twilio", "twilio==9.13.0", "twilio", {**TWILIO_CONFIG, "sender": US}, ("account_sid", "auth_token"),
        E164, TWILIO_FIELDS, TWILIO_ANSWERS,
        notes="same request: form To/From/Body, Basic account_sid:auth_token, E.164 with +; no Unicode flag, no DLT fields",
    ),
    Row(
        "twilio_messaging_service", "twilio_messaging_service", "twilio==9.13.0", "twilio",
        {**TWILIO_CONFIG, "messaging_service_sid": "MG0123456789abcdef0123456789abcdef"},
        ("account_sid", "auth_token"), E164,
        {"to": "body.To", "text": "body.Body", "messaging_service_sid": "body.MessagingServiceSid"}, TWILIO_ANSWERS,
        notes="same request: MessagingServiceSid instead of From",
    ),
    Row(
        "plivo", "plivo", "plivo==4.63.0", "plivo",
        {"auth_id": "MAZDQ1ZJIYMDZKMTIYNT", "auth_token": "pl-auth-token", "sender": "LABXYZ"}, ("auth_id", "auth_token"),
        PLAIN,
        {"to": "body.dst", "text": "body.text", "sender": "body.src", "dlt_entity": "body.dlt_entity_id",
         "dlt_template": "body.dlt_template_id"},
        (
            ok("queued", 202, {"api_id": "948b53a2-3f08-11e7-b6f4-061564b78b75", "message": "message(s) queued",
                               "message_uuid": ["5b40a428-bfc7-4daf-9d06-726c558bf3b8"]},
               "5b40a428-bfc7-4daf-9d06-726c558bf3b8", "plivo-python tests/resources/fixtures/messageSendResponse.json"),
            Answer("src missing (400)", 400, {"api_id": "a2", "error": "src parameter not present"}, "ProviderRejected",
                   source="plivo.com/docs/messaging/api/message#send-a-message (400)"),
            Answer("bad credentials (401)", 401, {"api_id": "a3", "error": "Authentication failed"}, "ProviderRejected",
                   source="plivo-python rest/client.py process_response (401)"),
        ),
        variants=(GSM, UCS2, DLT, PAIR), pair=(PLAIN, OTHER_PLAIN),
        ignore=("body.type", "body.method", "body.log", "body.trackable"),
        ignored="type=sms, method=POST, log=true, trackable=false: the SDK's defaults, sent on every call",
        notes="same request (JSON src/dst/text, Basic auth_id:auth_token, dlt_entity_id/dlt_template_id); the SDK "
              "passes the number through, so its format is not checked by the SDK",
    ),
    Row(
        "vonage", "vonage", "vonage==4.9.1 (vonage-sms==1.2.0)", "vonage",
        {"api_key": "vn-api-key", "api_secret": "vn-api-secret", "sender": "LABXYZ"}, ("api_key", "api_secret"), PLAIN,
        {"to": "body.to", "text": "body.text", "sender": "body.from", "dlt_entity": "body.entity-id",
         "dlt_template": "body.content-id"},
        (
            ok("accepted", 200, {"message-count": "1", "messages": [
                {"to": PLAIN, "message-id": "3295d748-4e14-4681-af78-166dca3c5aab", "status": "0",
                 "remaining-balance": "38.07243628", "message-price": "0.04120000", "network": "23420"}]},
               "3295d748-4e14-4681-af78-166dca3c5aab", f"{VONAGE_SMS}/send_sms.json"),
            Answer("number barred (status 7)", 200, {"message-count": "1", "messages": [
                {"status": "7", "error-text": "Number barred."}]}, "ProviderRejected",
                source=f"{VONAGE_SMS}/send_sms_error.json"),
            Answer("throttled (status 1)", 200, {"message-count": "1", "messages": [
                {"status": "1", "error-text": "You are sending SMS faster than the account limit."}]},
                "ProviderUnavailable", source=f"{VONAGE_SMS}/send_sms_error_throttling.json"),
        ),
        unicode=("body.type", "unicode"), variants=(GSM, UCS2, DLT),
        notes="credentials: the SDK sends HTTP Basic api_key:api_secret, the gateway sent api_key/api_secret as "
              "form fields; changed the definition to Basic. Fields, Unicode type and DLT names were the same",
    ),
    Row(
        "africastalking", "africastalking", "africastalking==2.0.3", "africastalking",
        {"api_key": "at-api-key", "username": "labxyz", "sender": "LABXYZ"}, ("api_key",), E164,
        {"to": "body.to", "text": "body.message", "sender": "body.from", "username": "body.username"},
        (
            ok("sent", 201, {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [
                {"statusCode": 101, "number": E164, "status": "Success", "cost": "KES 0.8000",
                 "messageId": "ATPid_SampleTxnId123"}]}}, "ATPid_SampleTxnId123",
               "developers.africastalking.com/docs/sms/sending/bulk (response)"),
            Answer("invalid number in a 201", 201, {"SMSMessageData": {"Message": "Sent to 0/1 Total Cost: 0", "Recipients": [
                {"statusCode": 403, "number": E164, "status": "InvalidPhoneNumber", "cost": "0", "messageId": "None"}]}},
                "InvalidRecipient", sdk_ok=True, source="developers.africastalking.com/docs/sms/sending (statusCode 403)"),
            Answer("bad key (401)", 401, "The supplied authentication is invalid", "ProviderRejected",
                   source="africastalking-python Service._make_request (non-2xx raises)"),
        ),
        headers=("accept",), ignore=("body.bulkSMSMode",),
        ignored="bulkSMSMode=1: always sent by the SDK (the API's default)",
        variants=(GSM, UCS2, PAIR), pair=(E164, OTHER_E164),
        notes="same request (form username/to/message/from, apiKey header, Accept: application/json); the SDK "
              "refuses numbers without + (E.164 checked)",
    ),
    Row(
        "messagebird", "messagebird", "messagebird==2.2.0", "messagebird", {"access_key": "mb-access-key", "sender": "LABXYZ"},
        ("access_key",), PLAIN, {"to": "body.recipients", "text": "body.body", "sender": "body.originator"},
        (
            ok("created", 201, {"id": "e8077d803532c0b5937c639b60216938", "href": "https://rest.messagebird.com/messages/e8077d803532c0b5937c639b60216938",
                                "direction": "mt", "type": "sms", "originator": "LABXYZ", "body": "Your report",
                                "datacoding": "plain", "mclass": 1, "createdDatetime": "2016-05-03T14:26:57+00:00",
                                "recipients": {"totalCount": 1, "totalSentCount": 1, "totalDeliveredCount": 0,
                                               "totalDeliveryFailedCount": 0, "items": [
                                                   {"recipient": 919876543210, "status": "sent",
                                                    "statusDatetime": "2016-05-03T14:26:57+00:00"}]}},
               "e8077d803532c0b5937c639b60216938", "developers.messagebird.com/api/sms-messaging#send-outbound-sms"),
            Answer("bad access key (401)", 401, {"errors": [{"code": 2, "description": "Request not allowed (incorrect access_key)",
                                                             "parameter": "access_key"}]}, "ProviderRejected",
                   source="developers.messagebird.com/api#errors (code 2)"),
            Answer("no recipients (422)", 422, {"errors": [{"code": 9, "description": "no (correct) recipients found",
                                                            "parameter": "recipients"}]}, "ProviderRejected",
                   source="developers.messagebird.com/api#errors (code 9)"),
        ),
        unicode=("body.datacoding", "unicode"),
        variants=(GSM, UCS2, PAIR), pair=(PLAIN, OTHER_PLAIN),
        notes="content type: the SDK sends JSON, the gateway sent a form body; changed the definition to JSON "
              "(recipients stays one comma-joined string, as the SDK sends it)",
    ),
    Row(
        "sinch", "sinch", "sinch==2.3.0", "sinch", {"service_plan_id": "sp-0123456789", "api_token": "sn-api-token", "sender": US},
        ("service_plan_id", "api_token"), E164, {"to": "body.to.0", "text": "body.body", "sender": "body.from"},
        (
            ok("created", 201, {"id": "01FC66621XXXXX119Z8PMV1QPQ", "to": [E164], "from": US, "canceled": False,
                                "body": "Your report", "type": "mt_text", "created_at": "2019-08-24T14:15:22Z",
                                "modified_at": "2019-08-24T14:15:22Z", "delivery_report": "none",
                                "expire_at": "2019-08-27T14:15:22Z", "flash_message": False},
               "01FC66621XXXXX119Z8PMV1QPQ", "developers.sinch.com/docs/sms/api-reference/sms/tag/Batches (201)"),
            Answer("bad from (400)", 400, {"code": "syntax_invalid_parameter_format", "text": "Invalid from address"},
                   "ProviderRejected", source="developers.sinch.com/docs/sms/api-reference/error-codes"),
            Answer("unauthorized (401)", 401, {"code": "unauthorized", "text": "Unauthorized"}, "ProviderRejected",
                   source="developers.sinch.com/docs/sms/api-reference/error-codes"),
        ),
        ignore=("body.type",), ignored="type=mt_text: the SDK's discriminator, the API's default",
        variants=(GSM, UCS2, PAIR), pair=(E164, OTHER_E164),
        notes="same request (JSON to[]/from/body, Bearer token, service plan id in the path)",
    ),
    Row(
        "clicksend", "clicksend", "clicksend-client==6.0.2", "clicksend",
        {"username": "cs-user", "api_key": "cs-api-key", "sender": "LABXYZ"}, ("username", "api_key"), E164,
        {"to": "body.messages.0.to", "text": "body.messages.0.body", "sender": "body.messages.0.from"},
        (
            ok("queued", 200, {"http_code": 200, "response_code": "SUCCESS", "response_msg": "Messages queued for delivery.",
                               "data": {"total_price": 0.0792, "total_count": 1, "queued_count": 1, "messages": [
                                   {"direction": "out", "date": 1721099039, "to": E164, "body": "Your report",
                                    "from": "LABXYZ", "schedule": 1721099039,
                                    "message_id": "1ABC3200-C38C-6308-BE4B-C7C51D01DCF0", "message_parts": 1,
                                    "message_price": "0.0792", "custom_string": "", "user_id": 123456,
                                    "subaccount_id": 123456, "country": "IN", "carrier": "Airtel",
                                    "status": "SUCCESS"}]}},
               "1ABC3200-C38C-6308-BE4B-C7C51D01DCF0", "clicksend-client models/send_sms_data.py (example)"),
            Answer("unauthorized (401)", 401, {"http_code": 401, "response_code": "UNAUTHORIZED",
                                               "response_msg": "Unauthorized. Please check your username and API key.",
                                               "data": None}, "ProviderRejected",
                   source="developers.clicksend.com/docs (status codes)"),
        ),
        ignore=("body.messages.*.source",),
        ignored="source: the application's name (SDK 'sdk-python', gateway 'fusion')",
        variants=(GSM, UCS2, PAIR), pair=(E164, OTHER_E164),
        notes="same request (JSON messages[{to, body, from}], Basic username:api_key, E.164 with +)",
    ),
    Row(
        "telnyx", "telnyx", "telnyx==4.189.0", "telnyx", {"api_key": "tx-api-key", "sender": US}, ("api_key",), E164,
        {"to": "body.to", "text": "body.text", "sender": "body.from"},
        (
            ok("queued", 200, {"data": {"record_type": "message", "direction": "outbound",
                                        "id": "40385f64-5717-4562-b3fc-2c963f66afa6", "type": "SMS",
                                        "to": [{"phone_number": E164, "status": "queued"}], "text": "Your report",
                                        "encoding": "GSM-7", "parts": 1}},
               "40385f64-5717-4562-b3fc-2c963f66afa6", "developers.telnyx.com/api/messaging/send-message (200)"),
            Answer("invalid to (400)", 400, {"errors": [{"code": "40310", "title": "Invalid 'to' address",
                                                         "detail": "The destination number is invalid"}]},
                   "InvalidRecipient", source="developers.telnyx.com/docs/messaging/messages/error-codes"),
        ),
        notes="same request (JSON from/to/text, Bearer api key, E.164 with +)",
    ),
    Row(
        "bandwidth", "bandwidth", "bandwidth-sdk==23.3.1", "bandwidth",
        {"account_id": "9900000", "username": "bw-user", "password": "bw-pass", "application_id": "93de2206-9669-4e07-948d-329f4b722ee2",
         "sender": US},
        ("username", "password"), E164,
        {"to": "body.to.0", "text": "body.text", "sender": "body.from", "application": "body.applicationId"},
        (
            ok("accepted", 202, {"id": "1589228074636lm4k2je7j7jklbn2", "owner": US,
                                 "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
                                 "time": "2020-05-11T20:14:34.636Z", "segmentCount": 1, "direction": "out",
                                 "to": [E164], "from": US, "text": "Your report", "tag": ""},
               "1589228074636lm4k2je7j7jklbn2", "dev.bandwidth.com/apis/messaging#tag/Messages/operation/createMessage"),
            Answer("validation (400)", 400, {"type": "request-validation", "description": "Your request could not be accepted",
                                             "fieldErrors": [{"fieldName": "from", "description": "must be a valid number"}]},
                   "ProviderRejected", source="dev.bandwidth.com/apis/messaging (400)"),
        ),
        variants=(GSM, UCS2, PAIR), pair=(E164, OTHER_E164),
        notes="same request (JSON applicationId/to[]/from/text, Basic, account id in the path)",
    ),
    Row(
        "brevo", "brevo", "brevo-python==5.1.0", "brevo", {"api_key": "xkeysib-brevo-key", "sender": "LABXYZ"}, ("api_key",),
        PLAIN, {"to": "body.recipient", "text": "body.content", "sender": "body.sender"},
        (
            ok("sent", 201, {"reference": "ab1cde2fgh3i4jklmno", "messageId": 1511882900176220, "smsCount": 1,
                             "usedCredits": 0.7, "remainingCredits": 82.85},
               "1511882900176220", "developers.brevo.com/reference/sendtransacsms (201)"),
            Answer("bad request (400)", 400, {"code": "invalid_parameter", "message": "Invalid phone number"},
                   "InvalidRecipient", source="developers.brevo.com/reference/sendtransacsms (400)"),
            Answer("no credits (402)", 402, {"code": "not_enough_credits", "message": "Not enough credits"},
                   "ProviderRejected", source="developers.brevo.com/reference/sendtransacsms (402)"),
        ),
        unicode=("body.unicodeEnabled", True),
        notes="same request (JSON type/sender/recipient/content, api-key header), the boolean unicodeEnabled=true "
              "for UCS-2 text included (the typed Unicode flags); without that flag the UCS-2 request differed",
    ),
    Row(
        "messente", "messente", "messente-api==2.7.0", "messente",
        {"username": "ms-api-user", "password": "ms-api-pass", "sender": "LABXYZ"}, ("username", "password"), E164,
        {"to": "body.to", "text": "body.messages.0.text", "sender": "body.messages.0.sender",
         "channel": "body.messages.0.channel"},
        (
            ok("created", 201, {"messages": [{"channel": "sms", "message_id": "8c5d7a3e-5d5e-4c1c-9d2e-21e2d1b7b1a3",
                                              "sender": "LABXYZ"}],
                                "omnimessage_id": "0e6b7b9c-4f5e-4b1b-9f5e-7a6b3c2d1e0f", "to": E164},
               "8c5d7a3e-5d5e-4c1c-9d2e-21e2d1b7b1a3", MESSENTE_DOCS),
            Answer("invalid sender (400)", 400, {"errors": [{"code": "105", "detail": "Invalid or disallowed sender LABXYZ",
                                                             "source": "payload[sms][sender]", "title": "Invalid data"}]},
                   "ProviderRejected", source=MESSENTE_DOCS),
            Answer("unauthorized (401)", 401, {"errors": [{"code": "103", "detail": "Unauthorized", "source": None,
                                                           "title": "Unauthorized"}]},
                   "ProviderRejected", source=MESSENTE_DOCS),
        ),
        notes="new gateway, written from the SDK: JSON {to, messages: [{channel: sms, sender, text}]}, Basic",
    ),
    Row(
        "smsapi", "smsapi", "smsapi-client==2.9.7", "smsapi", {"api_token": "sa-api-token", "sender": "LABXYZ"}, ("api_token",),
        PLAIN, {"to": "body.to", "text": "body.message", "sender": "body.from"},
        (
            ok("queued", 200, {"count": 1, "list": [{"id": "5A8FA0B23738302E08D4A2D5", "points": 0.16, "number": PLAIN,
                                                     "date_sent": 1519362227, "submitted_number": PLAIN,
                                                     "status": "QUEUE", "error": None, "idx": None, "parts": 1}]},
               "5A8FA0B23738302E08D4A2D5", "smsapi.pl/docs (sms.do, format=json)"),
            Answer("authorization failed (101)", 200, {"error": 101, "message": "Authorization failed"},
                   "ProviderRejected", source="smsapi.pl/docs error codes (101)"),
            Answer("no valid numbers (13)", 200, {"error": 13, "message": "No correct phone numbers"},
                   "ProviderRejected", source="smsapi.pl/docs error codes (13)"),
        ),
        ignore=("body.encoding",),
        ignored="encoding: the gateway sends encoding=utf-8 (the text's charset) on every send, as SMSAPI's own PHP "
                "client does; the Python SDK leaves it out",
        variants=(GSM, UCS2, PAIR), pair=(PLAIN, OTHER_PLAIN),
        notes="same request for GSM-7 text (form to/message/from/format=json, Bearer token); the SDK has no Unicode "
              "switch; encoding=utf-8 verified against smsapi/smsapi-php-client SendSmsBag.php instead",
    ),
    Row(
        "kavenegar", "kavenegar", "kavenegar==1.1.2", "kavenegar", {"api_key": "kv-api-key"}, ("api_key",), PLAIN,
        {"to": "body.receptor", "text": "body.message"},
        (
            ok("queued", 200, {"return": {"status": 200, "message": "تایید شد"}, "entries": [
                {"messageid": 8792343, "message": "Your report", "status": 1, "statustext": "در صف ارسال",
                 "sender": "10004346", "receptor": PLAIN, "date": 1356619709, "cost": 120}]},
               "8792343", "kavenegar.com/rest.html#sms-send"),
            Answer("no credit (418)", 418, {"return": {"status": 418, "message": "اعتبار حساب شما کافی نیست"}, "entries": None},
                   "ProviderRejected", source="kavenegar.com/rest.html (status 418)"),
        ),
        headers=("charset",), ignore=("headers.charset",),
        ignored="charset: utf-8, a header only the SDK sends",
        notes="encoding: the SDK POSTs a form body, the gateway put the fields in the query string of a POST; "
              "changed the definition to a form body",
    ),
    Row(
        "infobip", "infobip", INFOBIP, "infobip", {"api_key": "ib-api-key", "sender": "LABXYZ"}, ("api_key",), PLAIN,
        {"to": "body.messages.0.destinations.0.to", "text": "body.messages.0.text", "sender": "body.messages.0.from",
         "dlt_entity": "body.messages.0.regional.indiaDlt.principalEntityId",
         "dlt_template": "body.messages.0.regional.indiaDlt.contentTemplateId"},
        (
            ok("pending", 200, {"bulkId": "2034072219640523072", "messages": [
                {"to": PLAIN, "status": INFOBIP_PENDING, "messageId": "2250be2d4219-3af1-78856-aabe-1362af1edfd2"}]},
               "2250be2d4219-3af1-78856-aabe-1362af1edfd2", "infobip.com/docs/api/channels/sms/send-sms-message (200)"),
            Answer("rejected in a 200", 200, {"bulkId": "b2", "messages": [
                {"to": PLAIN, "messageId": "m2", "status": {"groupId": 5, "groupName": "REJECTED", "id": 51,
                                                            "name": "MISSING_TO", "description": "Missing destination"}}]},
                "ProviderRejected", sdk_ok=True, source="infobip.com/docs/essentials/api-essentials/response-status-and-error-codes"),
            INFOBIP_UNAUTHORIZED,
        ),
        variants=(GSM, UCS2, DLT, PAIR), pair=(PLAIN, OTHER_PLAIN), venv="sdk-infobip", nulls_absent=True,
        ignore=("body.messages.*.flash", "body.messages.*.intermediateReport"),
        ignored="JSON nulls (the SDK sends every optional field as null); flash=false and "
                "intermediateReport=false: the SDK model's defaults, the API's too",
        notes="same request (JSON messages[{from, destinations[{to}], text, regional.indiaDlt}], App key header, "
              "no plus); the SDK returns a REJECTED status unjudged",
    ),
    Row(
        "whatsapp-infobip-template", "infobip", INFOBIP, "infobip", INFOBIP_WA, ("api_key",), PLAIN,
        {"to": "body.messages.0.to", "sender": "body.messages.0.from", "template": "body.messages.0.content.templateName",
         "header": "body.messages.0.content.templateData.header.mediaUrl"},
        (
            ok("pending", 200, {"messages": [{"to": PLAIN, "messageCount": 1, "messageId": "a28dd97c-1ffb-4fcf-99f1-0b557ed381da",
                                              "status": INFOBIP_PENDING}], "bulkId": "2034072219640523073"},
               "a28dd97c-1ffb-4fcf-99f1-0b557ed381da", "infobip.com/docs/api/channels/whatsapp/send-whatsapp-template-message"),
            INFOBIP_UNAUTHORIZED,
        ),
        channel="whatsapp", variants=(GSM,), venv="sdk-infobip", nulls_absent=True, sdk_sender="441134960000",
        whatsapp={"template": {**WA_TEMPLATE, "header_document": PDF}},
        ignored="JSON nulls: the SDK sends every optional field as null",
        notes="same request (messages[{from, to, content{templateName, templateData{body.placeholders, header "
              "DOCUMENT}, language}}])",
    ),
    Row(
        "whatsapp-infobip-text", "infobip", INFOBIP, "infobip", INFOBIP_WA, ("api_key",), PLAIN,
        {"to": "body.to", "sender": "body.from", "text": "body.content.text"},
        (
            ok("pending", 200, {"to": PLAIN, "messageCount": 1, "messageId": "a28dd97c-1ffb-4fcf-99f1-0b557ed381db",
                                "status": INFOBIP_PENDING},
               "a28dd97c-1ffb-4fcf-99f1-0b557ed381db", "infobip.com/docs/api/channels/whatsapp/send-whatsapp-text-message"),
            INFOBIP_UNAUTHORIZED,
        ),
        channel="whatsapp", variants=(GSM,), venv="sdk-infobip", nulls_absent=True, sdk_sender="441134960000",
        whatsapp={"text": "Your report is ready"}, ignore=("body.content.previewUrl",),
        ignored="JSON nulls (the SDK sends every optional field as null); previewUrl=false: the SDK model's "
                "default, the API's too",
        notes="same request ({from, to, content{text}})",
    ),
    Row(
        "whatsapp-infobip-document", "infobip", INFOBIP, "infobip", INFOBIP_WA, ("api_key",), PLAIN,
        {"to": "body.to", "sender": "body.from", "text": "body.content.caption", "media": "body.content.mediaUrl"},
        (
            ok("pending", 200, {"to": PLAIN, "messageCount": 1, "messageId": "a28dd97c-1ffb-4fcf-99f1-0b557ed381dc",
                                "status": INFOBIP_PENDING},
               "a28dd97c-1ffb-4fcf-99f1-0b557ed381dc", "infobip.com/docs/api/channels/whatsapp/send-whatsapp-document-message"),
            INFOBIP_UNAUTHORIZED,
        ),
        channel="whatsapp", variants=(GSM,), venv="sdk-infobip", nulls_absent=True, sdk_sender="441134960000",
        whatsapp={"document": {**PDF, "caption": "Your report"}},
        ignored="JSON nulls: the SDK sends every optional field as null",
        notes="same request ({from, to, content{mediaUrl, filename, caption}})",
    ),
    Row(
        "whatsapp-twilio-template", "twilio", "twilio==9.13.0", "twilio",
        {**TWILIO_CONFIG, "sender": US}, ("account_sid", "auth_token"), f"whatsapp:{E164}",
        {"to": "body.To", "sender": "body.From", "template": "body.ContentSid", "variables": "body.ContentVariables"},
        TWILIO_ANSWERS[:2], channel="whatsapp", variants=(GSM,), sdk_sender=f"whatsapp:{US}",
        whatsapp={"template": {"name": "HX0123456789abcdef0123456789abcdef", "language": "en", "params": ["Asha", "12 Mar 2026"]}},
        notes="same request (whatsapp: addresses, ContentSid, ContentVariables as JSON)",
    ),
    Row(
        "whatsapp-twilio-document", "twilio", "twilio==9.13.0", "twilio",
        {**TWILIO_CONFIG, "sender": US}, ("account_sid", "auth_token"), f"whatsapp:{E164}",
        {"to": "body.To", "sender": "body.From", "text": "body.Body", "media": "body.MediaUrl"},
        TWILIO_ANSWERS[:1], channel="whatsapp", variants=(GSM,), sdk_sender=f"whatsapp:{US}",
        whatsapp={"document": {"url": "https://files.example/r/abc.pdf", "filename": "Report-12345.pdf",
                               "caption": "Your report"}},
        notes="same request (Body = caption, MediaUrl)",
    ),
]
# fmt: on
