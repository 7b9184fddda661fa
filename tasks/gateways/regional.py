"""SMS gateways of the Middle East, Africa and the rest of Asia."""

from __future__ import annotations

from tasks.gateways import bodies
from tasks.gateways.spec import JSON, PLAIN, QUERY, Each, Gateway, Success

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

GATEWAYS = [
    Gateway(
        name="unifonic", title="Unifonic", region="SA", url="https://basic.unifonic.com", path="/rest/SMS/messages",
        credentials={"AppSid": "app_sid"}, basic=("username", "password"),
        required=("app_sid", "username", "password", "sender"), sender="SenderID", to="Recipient", message="Body",
        number_format=PLAIN, success=Success(field="success", values=("true",), id="data.MessageID", code="errorCode"),
        confidence="H", source="wp-sms unifonic.php",
    ),
    Gateway(
        name="msegat", title="Msegat", region="SA", url="https://www.msegat.com", path="/gw/sendsms.php",
        encoding=JSON, credentials={"userName": "username", "apiKey": "api_key"},
        required=("username", "api_key", "sender"), static={"msgEncoding": "UTF8"}, sender="userSender",
        to="numbers", message="msg", number_format=PLAIN,
        success=Success(field="code", values=("1", "M0000"), code="code"),
        confidence="H", source="wp-sms msegat.php",
    ),
    Gateway(
        name="oursms", title="OurSMS", region="SA", url="https://api.oursms.com", path="/api-a/msgs",
        method="GET", encoding=QUERY, credentials={"username": "username", "token": "token"},
        required=("username", "token", "sender"), sender="src", to="dests", message="body", number_format=PLAIN,
        success=Success(absent=("errorCode",), id="msgId", error=("message", "errorMessage"), code="errorCode"),
        confidence="H", source="wp-sms oursms.php",
    ),
    Gateway(
        name="jawalbsms", title="JawalBSMS", region="SA", url="https://www.jawalbsms.ws", path="/api.php/sendsms",
        method="GET", encoding=QUERY, credentials={"user": "username", "pass": "password"},
        required=("username", "password", "sender"), number_format=PLAIN,
        success=Success(status=(200,), text=r"Success"),
        confidence="H", source="wp-sms jawalbsms.php",
    ),
    Gateway(
        name="taqnyat", title="Taqnyat", region="SA", url="https://api.taqnyat.sa", path="/v1/messages",
        encoding=JSON, headers={"Authorization": "Bearer {api_token}"}, required=("api_token", "sender"),
        to="recipients", to_list=True, message="body", number_format=PLAIN,
        success=Success(status=(200, 201), field="statusCode", values=("201",), id="messageId"),
        confidence="M", source="learn.microsoft.com connectors/taqnyat; sevaske/taqnyat-api",
    ),
    Gateway(
        name="maqsam", title="Maqsam", region="JO", url="https://api.maqsam.com", path="/v2/sms",
        basic=("access_key_id", "access_secret"), required=("access_key_id", "access_secret", "sender"),
        number_format=PLAIN, joiner=None,
        success=Success(field="message.identifier", id="message.identifier"),
        confidence="H", source="novu maqsam.provider.ts",
    ),
    Gateway(
        name="mobishastra", title="Mobishastra", region="AE", url="", encoding=JSON,
        required=("base_url", "user", "password", "sender"), body=bodies.mobishastra, sender="[].sender",
        to="[].number", message="[].msg", number_format=PLAIN, unicode=("[].language", "English", "Unicode"),
        success=Success(
            error=("0.str_response",),
            each=Each(items="", number="number", ok="msg_id", id="msg_id", code=("str_response",)),
        ),
        confidence="H", source="novu mobishastra.provider.ts",
    ),
    Gateway(
        name="termii", title="Termii", region="NG", url="https://api.ng.termii.com", path="/api/sms/send",
        encoding=JSON, credentials={"api_key": "api_key"}, required=("api_key", "sender"),
        static={"channel": "generic"}, options={"channel": "channel"}, sender="from",
        message="sms", number_format=PLAIN, joiner=None, unicode=("type", "plain", "unicode"),
        success=Success(field="message_id", id="message_id"),
        confidence="H", source="novu termii.provider.ts",
    ),
    Gateway(
        name="sendchamp", title="Sendchamp", region="NG", url="https://api.sendchamp.com", path="/v1/sms/send",
        encoding=JSON, headers={"Authorization": "Bearer {api_key}"}, required=("api_key", "sender"),
        static={"route": "dnd"}, options={"route": "route"}, sender="sender_name", to_list=True, number_format=PLAIN,
        success=Success(field="data.business_id", id="data.id"),
        confidence="H", source="novu sendchamp.provider.ts",
    ),
    Gateway(
        name="jusibe", title="Jusibe", region="NG", url="https://api.jusibe.com", path="/sms/v1/send",
        basic=("public_key", "access_token"), required=("public_key", "access_token", "sender"), sender="from",
        number_format=PLAIN, joiner=None, success=Success(status=(200,), field="message_id", id="message_id"),
        confidence="H", source="wp-sms jusibe.php",
    ),
    Gateway(
        name="hostpinnacle", title="HostPinnacle", region="KE", url="https://smsportal.hostpinnacle.co.ke",
        path="/SMSApi/send", headers={"apiKey": "{api_key}"}, credentials={"userid": "userid", "password": "password"},
        required=("api_key", "userid", "password", "sender"), static={"sendMethod": "quick", "output": "json"},
        sender="senderid", to="mobile", message="msg", number_format=PLAIN, unicode=("msgType", "text", "unicode"),
        success=Success(field="status", values=("success",), id="transactionId", error=("reason",)),
        confidence="H", source="wp-sms hostpinnacle.php",
    ),
    Gateway(
        name="isend", title="iSend (send.com.ly)", region="LY", url="https://send.com.ly", path="/api/v3/sms/send",
        encoding=JSON, headers={"Authorization": "Bearer {api_token}"}, required=("api_token", "sender"),
        sender="sender_id", to="recipient", number_format=PLAIN, unicode=("type", "plain", "unicode"),
        success=Success(field="status", values=("success",), id="data.uid"),
        confidence="H", source="novu isend-sms.provider.ts",
    ),
    Gateway(
        name="alpha_sms", title="Alpha SMS (sms.net.bd)", region="BD", url="https://api.sms.net.bd", path="/sendsms",
        credentials={"api_key": "api_key"}, required=("api_key",), sender=None, message="msg", number_format=PLAIN,
        success=Success(field="data.request_id", absent=("error",), id="data.request_id", error=("msg",), code="error"),
        confidence="H (request) / M (body)", source="simple-server messaging/alpha_sms/api.rb",
    ),
    Gateway(
        name="mobitel", title="Mobitel eSMS", region="LK", url="https://msmsenterpriseapi.mobitel.lk",
        path="/EnterpriseSMSV3/esmsproxy_multilang.php", method="GET", encoding=QUERY,
        credentials={"u": "username", "p": "password"}, required=("username", "password", "sender"), sender="a",
        to="r", message="m", number_format=PLAIN, unicode=("t", "0", "1"),
        success=Success(status=(200,), text=r"^200$"),
        confidence="H (request) / L (status 200 = sent)", source="simple-server messaging/mobitel/api.rb",
    ),
    Gateway(
        name="kavenegar", title="Kavenegar", region="IR", url="https://api.kavenegar.com",
        path="/v1/{api_key}/sms/send.json", required=("api_key",), to="receptor", number_format=PLAIN,
        success=Success(
            status=(200, 201), field="return.status", values=("200",), error=("return.message",), code="return.status",
            each=Each(
                items="entries", number="receptor", values=("1", "2", "4", "5", "10"), id="messageid",
                code=("status", "statustext"),
            ),
        ),
        confidence="H", source="sdk: kavenegar==1.1.2 (tests/sdk); apprise kavenegar.py",
    ),
]
# fmt: on
