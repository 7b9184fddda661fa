"""More Indian SMS gateways: the white-label "SMSApi" family, SpringEdge, PrideSMS, NIC, SMS Alert."""

from __future__ import annotations

from tasks.gateways import bodies
from tasks.gateways.spec import JSON, PLAIN, QUERY, Each, Gateway, Success

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

GATEWAYS = [
    Gateway(
        name="springedge", title="Spring Edge (instantalerts.co)", region="IN", url="https://instantalerts.co",
        path="/api/web/send/", method="GET", encoding=QUERY, credentials={"apikey": "api_key"},
        required=("api_key", "sender"), static={"format": "json"}, number_format=PLAIN,
        success=Success(field="MessageIDs", absent=("error",), id="MessageIDs"),
        confidence="H", source="spring-edge/nodejs-sms lib/springedge.js; wp-sms instantalerts.php",
    ),
    Gateway(
        name="smsgatewayhub", title="SMSGatewayHub", region="IN", url="https://www.smsgatewayhub.com",
        path="/api/mt/SendSMS", method="GET", encoding=QUERY, credentials={"APIKey": "api_key"},
        required=("api_key", "sender"), static={"channel": "Trans", "flashsms": "0"}, options={"route": "route"},
        sender="senderid", to="number", message="text", number_format=PLAIN, unicode=("DCS", "0", "8"),
        dlt_entity="PEID", dlt_template="DLTTemplateId",
        success=Success(
            field="ErrorCode", values=("000",), id="JobId", error=("ErrorMessage",), code="ErrorCode",
            each=Each(items="MessageData", number="Number", ok="MessageId", id="MessageId", code=()),
        ),
        confidence="H", source="wp-sms smsgatewayhub.php",
    ),
    Gateway(
        name="smsgatewaycenter", title="SMSGateway.Center", region="IN", url="https://www.smsgateway.center",
        path="/SMSApi/rest/send", method="GET", encoding=QUERY,
        credentials={"userId": "username", "password": "password"},
        required=("username", "password", "sender"), static={"sendMethod": "simpleMsg", "format": "json"},
        sender="senderId", to="mobile", message="msg", number_format=PLAIN, unicode=("msgType", "text", "unicode"),
        dlt_entity="dltEntityId", dlt_template="dltTemplateId",
        success=Success(
            field="status", values=("success",), id="transactionId", error=("reason", "errorMessage"),
            code="statusCode",
        ),
        confidence="H (request, success) / L (DLT names)",
        source="docs: https://www.smsgateway.center/docs/api/send-sms-html/ (userId, password, sendMethod simpleMsg, "
        "senderId, msgType text|unicode|flash; seen 2026-12); wp-sms smsgatewaycenter.php",
    ),
    Gateway(
        name="pinbix", title="Pinbix (SMSApi white label)", region="IN", url="", required=("base_url", "userid",
        "password", "sender"), method="GET", encoding=QUERY, credentials={"userid": "userid", "password": "password"},
        static={"sendMethod": "quick", "output": "json"}, sender="senderid", to="mobile", message="msg",
        number_format=PLAIN, unicode=("msgType", "text", "unicode"),
        success=Success(field="status", values=("success",), id="transactionId", error=("reason",), code="statusCode"),
        confidence="H (request, success) / M (msgType text/unicode, as SMSGateway.Center documents the same SMSApi "
        "schema)",
        source="nammayatri SMS/PinbixSms; smsgateway.center/docs/api/send-sms-html (msgType of the SMSApi schema)",
    ),
    Gateway(
        name="pridesms", title="PrideSMS", region="IN", url="https://pridesms.in", path="/api/v1/sendSMS.php",
        method="GET", encoding=QUERY, credentials={"user": "username", "password": "password"},
        required=("username", "password", "sender"), sender="senderid", to="number", message="text",
        number_format=PLAIN,
        success=Success(field="ErrorCode", values=("000",), id="JobId", error=("ErrorMessage",), code="ErrorCode"),
        confidence="H", source="wp-sms pridesms.php",
    ),
    Gateway(
        name="nic", title="NIC SMS gateway (Government of India)", region="IN", url="https://smsgw.sms.gov.in",
        path="/failsafe/HttpLink", credentials={"username": "username", "pin": "pin"},
        required=("username", "pin", "sender"), sender="signature", to="mnumber", number_format=PLAIN,
        dlt_entity="dlt_entity_id", dlt_template="dlt_template_id", unicode=("msgType", None, "UC"), body=bodies.nic,
        success=Success(status=(200,), text=r"Message Accepted for Request ID=(?P<id>[^~\s]+)"),
        confidence="H (request: username, pin, message, mnumber with country code, signature, msgType=UC with a hex "
        "UTF-16 message) / M (DLT fields) / L (success text)",
        source="docs: NIC SMS Service Integration guide (NIC Messaging Division; copy at scribd.com document "
        "356508754, seen 2026-12); belegovgithub/core-services NICSMSServiceImpl.java (DLT fields, answer)",
    ),
    Gateway(
        name="smsalert", title="SMS Alert (Cozy Vision)", region="IN", url="https://www.smsalert.co.in",
        path="/api/push.json", encoding=JSON, credentials={"apikey": "api_key"},
        required=("api_key", "sender"), options={"route": "route"}, to="mobileno", message="text",
        number_format=PLAIN, success=Success(field="status", values=("success",), id="description.batchid",
        error=("description.desc", "description")),
        confidence="H (request) / L (success body)",
        source="provider repo: SMSAlert/API-Integration-Sample-Code-PHP vendor/src/Smsalert/Smsalert.php@0115628 "
        "(POST JSON to /api/push.json: apikey, sender, mobileno with country code, no plus, comma-joined, text, "
        "route; seen 2026-12)",
    ),
]
# fmt: on
