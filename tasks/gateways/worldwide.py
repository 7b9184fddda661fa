"""Global SMS gateways: the ones users expect everywhere (Twilio, Plivo, Vonage, Infobip, ...)."""

from __future__ import annotations

from tasks.gateways import bodies
from tasks.gateways.spec import E164, JSON, PLAIN, QUERY, Each, Gateway, Success

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

_TWILIO = "https://api.twilio.com"
_TWILIO_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
_TWILIO_OK = Success(
    status=(200, 201), field="status", values=("accepted", "queued", "sending", "sent", "delivered", "scheduled"),
    id="sid", code="code", retry=("20429", "21611", "30001"), invalid=("21211", "21614"),
)

GATEWAYS = [
    Gateway(
        name="twilio", title="Twilio Programmable Messaging", region="global", url=_TWILIO, path=_TWILIO_PATH,
        basic=("account_sid", "auth_token"), required=("account_sid", "auth_token", "sender"), sender="From",
        to="To", message="Body", number_format=E164, joiner=None, options={"StatusCallback": "status_callback"},
        success=_TWILIO_OK, confidence="H",
        source="sdk: twilio==9.13.0 (tests/sdk); apprise twilio.py; nammayatri SMS/TwillioSms",
    ),
    Gateway(
        name="twilio_messaging_service", title="Twilio Messaging Service", region="global", url=_TWILIO,
        path=_TWILIO_PATH, basic=("account_sid", "auth_token"),
        required=("account_sid", "auth_token", "messaging_service_sid"),
        credentials={"MessagingServiceSid": "messaging_service_sid"}, sender="From", to="To", message="Body",
        number_format=E164, joiner=None, options={"StatusCallback": "status_callback"}, success=_TWILIO_OK,
        confidence="H", source="sdk: twilio==9.13.0 (tests/sdk); nammayatri SMS/TwillioSms Types.hs",
    ),
    Gateway(
        name="plivo", title="Plivo", region="global", url="https://api.plivo.com",
        path="/v1/Account/{auth_id}/Message/", encoding=JSON, basic=("auth_id", "auth_token"),
        required=("auth_id", "auth_token", "sender"), sender="src", to="dst", message="text", joiner="<",
        number_format=PLAIN, dlt_entity="dlt_entity_id", dlt_template="dlt_template_id",
        options={"dlt_template_category": "dlt_template_category", "url": "status_callback"},
        success=Success(
            status=(200, 202), field="message_uuid.0", id="message_uuid.0", error=("error",), refused="invalid_number",
        ),
        confidence="H", source="sdk: plivo==4.63.0 (tests/sdk); apprise plivo.py (fixed); plivo/plivo-java#254",
    ),
    Gateway(
        name="vonage", title="Vonage SMS API (Nexmo)", region="global", url="https://rest.nexmo.com",
        path="/sms/json", basic=("api_key", "api_secret"),
        required=("api_key", "api_secret", "sender"), sender="from", message="text", number_format=PLAIN,
        joiner=None, unicode=("type", None, "unicode"), dlt_entity="entity-id", dlt_template="content-id",
        reference="client-ref",
        success=Success(
            status=(200,), field="messages",
            each=Each(
                items="messages", ok="status", values=("0",), id="message-id", error=("error-text",), retry=("1",),
            ),
        ),
        confidence="H",
        source="sdk: vonage==4.9.1, vonage-sms==1.2.0 (tests/sdk); nammayatri SMS/VonageSms Flow.hs (status 0)",
    ),
    Gateway(
        name="infobip", title="Infobip SMS (v2 advanced)", region="global", url="https://api.infobip.com",
        path="/sms/2/text/advanced", encoding=JSON, headers={"Authorization": "App {api_key}"},
        required=("api_key",), body=bodies.infobip, number_format=PLAIN, sender="messages[].from",
        to="messages[].destinations[].to", message="messages[].text",
        dlt_entity="regional.indiaDlt.principalEntityId", dlt_template="regional.indiaDlt.contentTemplateId",
        success=Success(
            status=(200,), field="messages", error=("requestError.serviceException.text",),
            code="requestError.serviceException.messageId",
            each=Each(
                items="messages", ok="status.groupName", values=("PENDING", "DELIVERED", "ACCEPTED"), id="messageId",
                code=("status.groupName", "status.name"), error=("status.description",),
                invalid=("REJECTED_DESTINATION", "REJECTED_PREFIX_MISSING", "REJECTED_INVALID_DESTINATION"),
            ),
        ),
        confidence="H (request) / M (groupName values)",
        source="sdk: infobip-api-python-sdk==5.0.1 (tests/sdk); novu infobip.provider.ts; novu#5311 (base_url)",
    ),
    Gateway(
        name="messagebird", title="MessageBird (legacy REST)", region="global", url="https://rest.messagebird.com",
        path="/messages", encoding=JSON, headers={"Authorization": "AccessKey {access_key}"},
        required=("access_key", "sender"),
        sender="originator", to="recipients", message="body", number_format=PLAIN,
        unicode=("datacoding", None, "unicode"), reference="reference",
        success=Success(
            status=(200, 201), field="id", id="id", error=("errors.0.description",), code="errors.0.code",
            each=Each(
                items="recipients.items", number="recipient", values=("scheduled", "sent", "buffered", "delivered"),
            ),
        ),
        confidence="H", source="sdk: messagebird==2.2.0 (tests/sdk); apprise messagebird.py",
    ),
    Gateway(
        name="sinch", title="Sinch SMS (XMS)", region="global", url="https://us.sms.api.sinch.com",
        path="/xms/v1/{service_plan_id}/batches", encoding=JSON, headers={"Authorization": "Bearer {api_token}"},
        required=("service_plan_id", "api_token", "sender"), sender="from", message="body", to_list=True,
        number_format=E164, reference="client_reference",
        success=Success(status=(200, 201), field="id", id="id", error=("text",), code="code"),
        confidence="H", source="sdk: sinch==2.3.0 (tests/sdk); apprise sinch.py (EU: base_url https://eu.sms.api.sinch.com)",
    ),
    Gateway(
        name="clickatell", title="Clickatell (HTTP)", region="global", url="https://platform.clickatell.com",
        path="/messages/http/send", method="GET", encoding=QUERY, credentials={"apiKey": "api_key"},
        required=("api_key",), sender="from", message="content", number_format=PLAIN,
        success=Success(
            status=(200, 201, 202), field="messages", error=("error", "errorDescription"), code="errorCode",
            each=Each(
                items="messages", ok="accepted", values=("true",), id="apiMessageId", code=("errorCode",),
                error=("error", "errorDescription"),
            ),
        ),
        confidence="H",
        source="provider repo: clickatell/clickatell-php src/Rest.php, test/RestTest.php@787db1d (answers: HTTP "
        "200/201/202, messages[].apiMessageId/accepted/to/error, top-level error; seen 2026-12); apprise clickatell.py "
        "(HTTP API request)",
    ),
    Gateway(
        name="telnyx", title="Telnyx", region="global", url="https://api.telnyx.com", path="/v2/messages",
        encoding=JSON, headers={"Authorization": "Bearer {api_key}"}, required=("api_key",), sender="from",
        message="text", number_format=E164, joiner=None,
        options={"messaging_profile_id": "messaging_profile_id"},
        success=Success(
            status=(200,), field="data.id", id="data.id", error=("errors.0.detail", "errors.0.title"),
            code="errors.0.code",
        ),
        confidence="H", source="sdk: telnyx==4.189.0 (tests/sdk); developers.telnyx.com send-message",
    ),
    Gateway(
        name="africastalking", title="Africa's Talking", region="Africa", url="https://api.africastalking.com",
        path="/version1/messaging", headers={"apiKey": "{api_key}", "Accept": "application/json"},
        credentials={"username": "username"}, required=("api_key", "username"), sender="from", number_format=E164,
        success=Success(
            status=(200, 201), field="SMSMessageData.Recipients", error=("SMSMessageData.Message",),
            each=Each(
                items="SMSMessageData.Recipients", number="number", ok="statusCode", values=("100", "101", "102"),
                id="messageId", code=("statusCode", "status"), retry=("500", "501"), invalid=("403", "404"),
            ),
        ),
        confidence="H (request) / M (per-recipient status)",
        source="sdk: africastalking==2.0.3 (tests/sdk; the SDK returns the answer unread); apprise africas_talking.py",
    ),
    Gateway(
        name="bandwidth", title="Bandwidth Messaging", region="US", url="https://messaging.bandwidth.com",
        path="/api/v2/users/{account_id}/messages", encoding=JSON, basic=("username", "password"),
        required=("account_id", "username", "password", "application_id", "sender"),
        credentials={"applicationId": "application_id"}, sender="from", message="text", to_list=True,
        number_format=E164, success=Success(status=(202,), field="id", id="id", error=("description",), code="type"),
        confidence="H", source="sdk: bandwidth-sdk==23.3.1 (tests/sdk); dev.bandwidth.com createMessage",
    ),
    Gateway(
        name="clicksend", title="ClickSend", region="global", url="https://rest.clicksend.com", path="/v3/sms/send",
        encoding=JSON, basic=("username", "api_key"), required=("username", "api_key"), body=bodies.clicksend,
        number_format=E164, sender="messages[].from", to="messages[].to", message="messages[].body",
        success=Success(
            status=(200,), field="response_code", values=("SUCCESS",), error=("response_msg",), code="response_code",
            each=Each(items="data.messages", values=("SUCCESS",), id="message_id", invalid=("INVALID_RECIPIENT",)),
        ),
        confidence="H (request) / M (per-message status)",
        source="sdk: clicksend-client==6.0.2 (tests/sdk; the SDK does not judge the status); apprise clicksend.py",
    ),
    Gateway(
        name="d7networks", title="D7 Networks", region="global", url="https://api.d7networks.com",
        path="/messages/v1/send", encoding=JSON, headers={"Authorization": "Bearer {api_token}"},
        required=("api_token",), body=bodies.d7networks, number_format=E164, sender="message_globals.originator",
        to="messages[].recipients", message="messages[].content", unicode=("messages[].data_coding", "text", "unicode"),
        success=Success(
            status=(200, 201), field="request_id", id="request_id", error=("detail.message", "detail"),
            code="detail.code",
        ),
        confidence="H", source="apprise d7networks.py",
    ),
]
# fmt: on
