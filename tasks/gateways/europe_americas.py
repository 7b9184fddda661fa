"""SMS gateways of Europe, the Americas and Oceania, and self-hosted bridges."""

from __future__ import annotations

from tasks.gateways import bodies
from tasks.gateways.spec import E164, JSON, NATIONAL, PLAIN, QUERY, Each, Gateway, Success

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

GATEWAYS = [
    Gateway(
        name="seven", title="seven (ex sms77)", region="EU", url="https://gateway.seven.io", path="/api/sms",
        encoding=JSON, headers={"X-Api-Key": "{api_key}"}, required=("api_key",), sender="from", message="text",
        number_format=PLAIN, static={"json": 1},
        success=Success(
            field="success", values=("100", "101"), code="success",
            each=Each(
                items="messages", number="recipient", ok="success", values=("true",), id="id", code=("error",),
                error=("error_text",),
            ),
        ),
        confidence="H (request; answers: messages[] recipient/success/id/error/error_text, error codes) / M (success "
        "code 100)",
        source="provider repo: seven-io/js-client src/resources/sms/SmsPayload.ts, types.ts, "
        "src/lib/ErrorCode.ts@26a6531, src/BaseClient.ts@148108b (json=1 on every send, else the answer may be a bare "
        "code such as 100 or 900; SmsResponse success string, messages[]; 202 invalid recipient, 900 invalid API key; "
        "seen 2026-12); apprise seven.py",
    ),
    Gateway(
        name="smsapi", title="SMSAPI", region="PL", url="https://api.smsapi.pl", path="/sms.do",
        headers={"Authorization": "Bearer {api_token}"}, required=("api_token",),
        static={"format": "json", "encoding": "utf-8"}, sender="from", number_format=PLAIN,
        success=Success(
            field="count", absent=("error",), code="error",
            each=Each(items="list", number="number", ok="id", id="id"),
        ),
        confidence="H",
        source="sdk: smsapi-client==2.9.7 (tests/sdk; no Unicode switch in the SDK); provider repo: "
        "smsapi/smsapi-php-client src/Feature/Sms/Bag/SendSmsBag.php@22e79d6 (encoding utf-8, the charset of the "
        "text, on every send; the coding is chosen by SMSAPI; seen 2026-12); wp-sms smsapi.php",
    ),
    Gateway(
        name="serwersms", title="SerwerSMS", region="PL", url="https://api2.serwersms.pl",
        path="/messages/send_sms.json", encoding=JSON, optional_headers={"Authorization": "Bearer {api_token}"},
        credentials={"username": "username", "password": "password"}, required=("sender",),
        required_any=(("api_token",), ("username", "password")), to="phone", message="text", number_format=E164,
        unicode=("utf", None, True),
        success=Success(
            field="success", values=("true",), error=("error.message",), code="error.code",
            each=Each(items="items", number="phone", ok="id", id="id", code=("status", "error_code"),
                      error=("error_message",)),
        ),
        confidence="H",
        source="provider repo: SerwerSMSpl/serwersms-python-api serwersms/serwersms.py@0bb7901 (POST "
        "messages/send_sms.json, Bearer API token), message.py@6d6d9ac (phone, text, sender, utf; answer success, "
        "items[].id/phone/status/error_code/error_message; seen 2026-12); apprise serwersms.py (username/password)",
    ),
    Gateway(
        name="gatewayapi", title="GatewayAPI", region="DK", url="https://gatewayapi.com", path="/rest/mtsms",
        encoding=JSON, basic=("api_token", "password"), required=("api_token", "sender"), body=bodies.gatewayapi,
        to="recipients[].msisdn", number_format=PLAIN, unicode=("encoding", None, "UTF-16-BE"),
        success=Success(field="ids.0", id="ids.0"),
        confidence="H", source="wp-sms gatewayapi.php (Basic token with an empty password)",
    ),
    Gateway(
        name="fortysixelks", title="46elks", region="SE", url="https://api.46elks.com", path="/a1/sms",
        basic=("username", "password"), required=("username", "password", "sender"), sender="from",
        number_format=E164, joiner=None, success=Success(status=(200,), field="id", id="id"),
        confidence="H", source="apprise fortysixelks.py",
    ),
    Gateway(
        name="octopush", title="Octopush", region="FR", url="https://api.octopush.com",
        path="/v1/public/sms-campaign/send", encoding=JSON,
        headers={"api-key": "{api_key}", "api-login": "{api_login}"},
        required=("api_key", "api_login"), body=bodies.octopush, to="recipients[].phone_number", message="text",
        number_format=E164, success=Success(status=(201,), field="sms_ticket", id="sms_ticket"),
        confidence="H", source="apprise octopush.py",
    ),
    Gateway(
        name="smsc", title="SMSC.ru", region="RU", url="https://smsc.ru", path="/sys/send.php",
        credentials={"login": "login", "psw": "password"}, required=("login", "password"), static={"fmt": "3"},
        to="phones", message="mes", number_format=PLAIN,
        success=Success(field="id", absent=("error_code",), id="id", error=("error",), code="error_code", retry=("9",)),
        confidence="H", source="apprise smsc.py",
    ),
    Gateway(
        name="smsmanager", title="SMS Manager", region="CZ", url="https://http-api.smsmanager.cz", path="/Send",
        method="GET", encoding=QUERY, credentials={"apikey": "api_key"}, required=("api_key",),
        static={"gateway": "high"}, options={"gateway": "gateway"}, to="number", joiner=";", number_format=PLAIN,
        success=Success(status=(200,), text=r"^OK\|(?P<id>\d+)"),
        confidence="H (request) / L (OK| answer)",
        source="docs: https://smsmanager.cz/api/http (Send: apikey, number joined by ; or ,; seen 2026-12; the page "
        "calls http-api deprecated in favour of JSON API v2), https://smsmanager.cz/api/codes/ (1xx-2xx errors with "
        "HTTP 4xx, 9xx retryable); apprise smsmanager.py (OK| answer)",
    ),
    Gateway(
        name="mitto", title="Mitto", region="CH", url="https://rest.mittoapi.com", path="/sms.json", encoding=JSON,
        headers={"X-Mitto-API-Key": "{api_key}"}, required=("api_key", "sender"), sender="from", message="text",
        number_format=PLAIN, joiner=None, unicode=("type", "GSM", "Unicode"),
        success=Success(field="responseCode", values=("0",), id="id", error=("responseText",), code="responseCode"),
        confidence="H", source="wp-sms mitto.php",
    ),
    Gateway(
        name="bulksms", title="BulkSMS.com", region="global", url="https://api.bulksms.com", path="/v1/messages",
        encoding=JSON, basic=("username", "password"), required=("username", "password"), sender="from",
        message="body", to_list=True, number_format=E164, unicode=("encoding", "TEXT", "UNICODE"),
        success=Success(
            status=(200, 201), error=("detail", "title"), code="type",
            each=Each(
                items="", ok="status.type", values=("ACCEPTED", "SCHEDULED", "SENT", "DELIVERED"), id="id",
                code=("status.type", "status.subtype"),
            ),
        ),
        confidence="H", source="apprise bulksms.py",
    ),
    Gateway(
        name="burstsms", title="Burst SMS (Transmit SMS)", region="AU", url="https://api.transmitsms.com",
        path="/send-sms.json", basic=("api_key", "api_secret"), required=("api_key", "api_secret"), sender="from",
        number_format=PLAIN,
        success=Success(
            status=(200,), field="error.code", values=("SUCCESS",), id="message_id", error=("error.description",),
            code="error.code",
        ),
        confidence="H (request) / M (error.code SUCCESS)", source="apprise burstsms.py",
    ),
    Gateway(
        name="brevo", title="Brevo transactional SMS", region="EU", url="https://api.brevo.com",
        path="/v3/transactionalSMS/sms", encoding=JSON, headers={"api-key": "{api_key}"},
        required=("api_key", "sender"), static={"type": "transactional"}, to="recipient", message="content",
        number_format=PLAIN, joiner=None, unicode=("unicodeEnabled", None, True),
        success=Success(status=(200, 201), field="messageId", id="messageId", code="code"),
        confidence="H", source="sdk: brevo-python==5.1.0 (tests/sdk); novu brevo-sms",
    ),
    Gateway(
        name="messente", title="Messente Omnimessage (SMS)", region="EU", url="https://api.messente.com",
        path="/v1/omnimessage", encoding=JSON, basic=("username", "password"), required=("username", "password"),
        body=bodies.messente, sender="messages[].sender", to="to", message="messages[].text", number_format=E164,
        joiner=None,
        success=Success(
            status=(201,), field="messages.0.message_id", id="messages.0.message_id",
            error=("errors.0.detail", "errors.0.title"), code="errors.0.code",
        ),
        confidence="H", source="sdk: messente-api==2.7.0 (tests/sdk); messente.com omnichannel API",
    ),
    Gateway(
        name="httpsms", title="httpSMS (Android phone)", region="global", url="https://api.httpsms.com",
        path="/v1/messages/send", encoding=JSON, headers={"x-api-key": "{api_key}"}, required=("api_key", "sender"),
        sender="from", message="content", number_format=E164, joiner=None,
        success=Success(status=(200,), field="data.id", id="data.id"),
        confidence="H", source="apprise httpsms.py",
    ),
    Gateway(
        name="voipms", title="VoIP.ms", region="US", url="https://voip.ms", path="/api/v1/rest.php", method="GET",
        encoding=QUERY, credentials={"api_username": "username", "api_password": "password"},
        required=("username", "password", "sender"), static={"method": "sendSMS"}, sender="did", to="dst",
        number_format=NATIONAL, joiner=None, success=Success(field="status", values=("success",), id="sms"),
        confidence="H", source="apprise voipms.py",
    ),
    Gateway(
        name="simpletexting", title="SimpleTexting", region="US", url="https://api-app2.simpletexting.com",
        path="/v2/api/messages", encoding=JSON, headers={"Authorization": "Bearer {api_token}"},
        required=("api_token",), static={"mode": "AutoDetect"}, options={"accountPhone": "account_phone"},
        sender=None, to="contactPhone", message="text", number_format=NATIONAL, joiner=None,
        success=Success(field="id", id="id"), confidence="H", source="novu simpletexting",
    ),
    Gateway(
        name="firetext", title="Firetext", region="UK", url="https://www.firetext.co.uk", path="/api/sendsms",
        method="GET", encoding=QUERY, credentials={"apiKey": "api_key"}, required=("api_key", "sender"),
        sender="from", number_format=PLAIN, success=Success(status=(200,), text=r"^0:"),
        confidence="H", source="novu firetext.provider.ts (code 0 = ok; id in the X-Message header)",
    ),
    Gateway(
        name="verimor", title="Verimor", region="TR", url="https://sms.verimor.com.tr", path="/v2/send",
        method="GET", encoding=QUERY, credentials={"username": "username", "password": "password"},
        required=("username", "password"), sender="source_addr", to="dest", message="msg", number_format=PLAIN,
        unicode=("datacoding", None, "2"),
        success=Success(status=(200,), text=r"^(?P<id>\d+)$"), confidence="H", source="wp-sms verimor.php",
    ),
    Gateway(
        name="kannel", title="Kannel (self-hosted SMSC bridge)", region="any", url="", path="/cgi-bin/sendsms",
        method="GET", encoding=QUERY, credentials={"username": "username", "password": "password"},
        required=("base_url", "username", "password"), static={"charset": "UTF-8"}, sender="from", message="text",
        number_format=PLAIN, joiner=" ", unicode=("coding", None, "2"),
        success=Success(status=(200, 202), text=r"^(0:\s*Accepted|3:\s*Queued)"),
        confidence="H",
        source="docs: Kannel user guide, sendsms HTTP interface (kannel 1.4.5 doc/userguide/userguide.xml, "
        "sources.debian.org; reply table 202 0: Accepted for delivery / 202 3: Queued for later delivery / 4xx / 503; "
        "to: numbers separated by spaces; coding 2 = UCS-2; seen 2026-12); novu kannel.provider.ts",
    ),
]
# fmt: on
