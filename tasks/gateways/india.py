"""Indian SMS gateways (DLT: a registered sender header, principal entity id and content template id).

Each definition notes its confidence (see docs/gateways.md): H = request and success check seen
in public code; M = provider docs or several consistent samples; L = verify before relying on it.
"""

from __future__ import annotations

from tasks.gateways import bodies
from tasks.gateways.spec import E164, JSON, NATIONAL, PLAIN, QUERY, Each, Gateway, Success

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

_GUPSHUP = "https://enterprise.smsgupshup.com"
_MSG91 = "https://api.msg91.com"
_ID24 = r"^(?P<id>[0-9a-zA-Z]{24})$"

GATEWAYS = [
    Gateway(
        name="msg91", title="MSG91 Flow API (v5)", region="IN", url="https://control.msg91.com",
        path="/api/v5/flow/", encoding=JSON, headers={"authkey": "{auth_key}"}, required=("auth_key",),
        body=bodies.msg91_flow, number_format=PLAIN, to="recipients[].mobiles", message="recipients[].body",
        sender=None, dlt_template="template_id",
        success=Success(status=(200,), field="type", values=("success",), id="message"),
        confidence="H",
        source="docs: https://control.msg91.com/apidoc/textsms/send-sms-flow.php (sample output: type success, "
        "24-hex request id in message; mobiles 91XXXXXXXXXX, no plus; seen 2026-12); apprise msg91.py (template_id, "
        "short_url)",
    ),
    Gateway(
        name="msg91_v2", title="MSG91 v2 sendsms (legacy JSON)", region="IN", url=_MSG91,
        path="/api/v2/sendsms", encoding=JSON, headers={"authkey": "{auth_key}"}, required=("auth_key", "sender"),
        body=bodies.msg91_v2, number_format=PLAIN, to="sms[].to", message="sms[].message",
        dlt_template="DLT_TE_ID", unicode=("unicode", 0, 1),
        success=Success(status=(200,), field="type", values=("success",), id="message", code="code"),
        confidence="H (answers, headers, unicode 0/1) / M (JSON body layout)",
        source="docs: http://api.msg91.com/apidoc/textsms/send-sms-v1.php (parameters; JSON success and error sample "
        "with code 106; seen 2026-12); Sunbird-Lern sms-configuration.md (JSON body)",
    ),
    Gateway(
        name="msg91_sendhttp", title="MSG91 sendhttp.php (legacy)", region="IN", url=_MSG91,
        path="/api/sendhttp.php", method="GET", encoding=QUERY, credentials={"authkey": "auth_key"},
        required=("auth_key", "sender"), to="mobiles", number_format=PLAIN, static={"route": "4", "country": "0"},
        options={"route": "route"}, dlt_template="DLT_TE_ID", unicode=("unicode", None, "1"),
        success=Success(status=(200,), text=_ID24),
        confidence="M (request fields: MSG91's client; GET and the text answer not verified)",
        source="tesark/msg91-php MSG91DOC.md (output: 24-character request id); MSG91/msg91-python msg91/message.py, "
        "base.py@9d53e81 (same fields, but POSTed as a form to control.msg91.com with response=json; seen 2026-12)",
    ),
    Gateway(
        name="msgwow", title="MSGWOW (MSG91 white label)", region="IN", url="https://my.msgwow.com",
        path="/api/v2/sendsms", method="GET", encoding=QUERY, credentials={"authkey": "auth_key"},
        required=("auth_key", "sender"), to="mobiles", number_format=PLAIN, static={"route": "4", "country": "0"},
        options={"route": "route"}, dlt_template="DLT_TE_ID", unicode=("unicode", None, "1"),
        success=Success(status=(200,), field="type", values=("success",), id="message"),
        confidence="H", source="wp-sms msgwow.php",
    ),
    Gateway(
        name="textlocal", title="Textlocal India", region="IN", url="https://api.textlocal.in", path="/send/",
        credentials={"apikey": "api_key"}, required=("api_key",), to="numbers", number_format=PLAIN,
        unicode=("unicode", None, "true"),
        success=Success(
            field="status", values=("success",), id="batch_id", code="errors.0.code",
            each=Each(items="messages", number="recipient", ok="id", id="id", code=()),
        ),
        confidence="H (request) / M (answers)",
        source="docs: https://api.textlocal.in/docs/sendsms (sample request: POST /send/, apikey, numbers 91... "
        "comma-joined, sender, message; seen 2026-12); hackage textlocal (answers)",
    ),
    Gateway(
        name="gupshup", title="Gupshup Enterprise SMS", region="IN", url=_GUPSHUP, path="/GatewayAPI/rest",
        method="GET", encoding=QUERY, required=("userid", "password"),
        credentials={"userid": "userid", "password": "password"},
        static={"method": "sendMessage", "v": "1.1", "auth_scheme": "plain", "format": "json"},
        sender="mask", to="send_to", message="msg", number_format=PLAIN, joiner=None,
        dlt_entity="principalEntityId", dlt_template="dltTemplateId", unicode=("msg_type", "TEXT", "Unicode_text"),
        success=Success(
            field="response.status", values=("success",), id="response.id", error=("response.details",),
            code="response.id", retry=("322",),
        ),
        confidence="H", source="novu gupshup.provider.ts; nammayatri SMS/GupShup",
    ),
    Gateway(
        name="kaleyra", title="Kaleyra (kaleyra.io)", region="IN", url="https://api.kaleyra.io",
        path="/v1/{sid}/messages", encoding=JSON, headers={"api-key": "{api_key}"}, required=("sid", "api_key"),
        number_format=E164, joiner=None, message="body", static={"type": "TXN"}, options={"type": "type"},
        dlt_template="template_id",
        success=Success(field="id", id="id", error=("error.message", "message", "error"), code="error.code"),
        confidence="H",
        source="docs: https://developers.kaleyra.io/docs/send-your-first-sms (POST /v1/<SID>/messages, header api-key, "
        "to +E.164, sender, type, body, template_id for IN; seen 2026-12); nammayatri SMS/KaleyraSms; nammayatri#14926 "
        "(template id needed in IN)",
    ),
    Gateway(
        name="kaleyra_v4", title="Kaleyra / Solutions Infini v4 (legacy)", region="IN",
        url="https://api-alerts.kaleyra.com", path="/v4/", method="GET", encoding=QUERY,
        credentials={"api_key": "api_key"}, required=("api_key", "sender"), static={"method": "sms", "format": "json"},
        number_format=PLAIN, dlt_entity="entity_id", dlt_template="template_id", unicode=("unicode", None, "1"),
        success=Success(field="status", values=("OK",), id="data.0.id", code="code"),
        confidence="H (request: api_key, method, to, sender, message, unicode 1; answers) / M (DLT entity_id, "
        "template_id)",
        source="docs: Kaleyra SMS Postman collection https://apidocs-sms.kaleyra.com 5548422/Rztfuqyf (Alerts, Send an "
        "SMS, published 2019-02-15; seen 2026-12); provider repo: kaleyra/kaleyra-python "
        "api/messaging/sms/sms_message_request.py, sms_message_response.py, tests/messaging/sms/test_sms.py@23c9d85 "
        "(GET v4 with api_key, method=sms, message, to, sender, unicode; answer status OK, data[0].id, data[0].status "
        "AWAITED-DLR; seen 2026-12); docs: https://alerts.solutionsinfini.com/readme/4.0/ (Kaleyra's v4 readme: "
        "unicode 1/0/auto, format default JSON, answer data keyed 0, 1, ... with id, mobile, status; seen 2026-12); "
        "public sample code (DLT fields)",
    ),
    Gateway(
        name="exotel", title="Exotel SMS", region="IN", url="https://api.exotel.com",
        path="/v1/Accounts/{account_sid}/Sms/send.json", basic=("api_key", "api_token"),
        required=("account_sid", "api_key", "api_token", "sender"), sender="From", to="To", message="Body",
        number_format=E164, joiner=None, dlt_entity="DltEntityId", dlt_template="DltTemplateId",
        unicode=("EncodingType", "plain", "unicode"), options={"SmsType": "sms_type"},
        success=Success(
            field="SMSMessage.Status", values=("queued", "sending", "submitted", "sent"), id="SMSMessage.Sid",
            error=("RestException.Message", "SMSMessage.DetailedStatus"),
        ),
        confidence="H",
        source="docs: https://developer.exotel.com/docs/sms-api/api-reference/send-sms (From, To, Body, EncodingType "
        "plain/unicode, DltEntityId, DltTemplateId, SmsType; seen 2026-12); apprise exotel.py (Mumbai: base_url "
        "api.in.exotel.com)",
    ),
    Gateway(
        name="twofactor", title="2Factor transactional SMS", region="IN", url="https://2factor.in",
        path="/API/R1/", method="GET", encoding=QUERY, credentials={"apikey": "api_key"},
        required=("api_key", "sender"), static={"module": "TRANS_SMS"}, sender="from", message="msg",
        number_format=PLAIN, options={"templatename": "template_name"},
        success=Success(field="Status", values=("Success",), id="Details", error=("Details",)),
        confidence="L (msg variant)", source="rubydoc wordjelly-auth TwoFactorOtp; hanut/2factor-node",
    ),
    Gateway(
        name="fast2sms", title="Fast2SMS (DLT manual route)", region="IN", url="https://www.fast2sms.com",
        path="/dev/bulkV2", headers={"authorization": "{api_key}"}, required=("api_key", "sender"),
        static={"route": "dlt_manual", "flash": "0"}, options={"route": "route"}, sender="sender_id", to="numbers",
        number_format=NATIONAL, dlt_entity="entity_id", dlt_template="template_id",
        unicode=("language", None, "unicode"),
        success=Success(field="return", values=("true",), id="request_id", code="status_code"),
        confidence="H", source="wp-sms fast2sms.php; docs.fast2sms.com dlt-manual-single",
    ),
    Gateway(
        name="karix", title="Karix JSON API", region="IN", url="https://japi.instaalerts.zone",
        path="/httpapi/JsonReceiver", encoding=JSON, required=("api_key", "sender"), body=bodies.karix,
        to="messages[].dest", message="messages[].text", sender="messages[].send", number_format=PLAIN,
        dlt_entity="messages[].dlt_entity_id", dlt_template="messages[].dlt_template_id",
        unicode=("messages[].type", None, "UC"),
        success=Success(field="status.code", values=("200",), id="ackid", error=("status.desc",), code="status.code"),
        confidence="H (request, success) / L (DLT field names, default host)", source="nammayatri SMS/KarixSms",
    ),
    Gateway(
        name="mobtexting", title="Mobtexting (Karix SME)", region="IN", url="https://portal.mobtexting.com",
        path="/api/v2/sms/send", credentials={"access_token": "access_token"}, required=("access_token", "sender"),
        static={"service": "T"}, options={"service": "service"}, number_format=PLAIN,
        success=Success(
            status=(200, 201), field="status", values=("success",),
            each=Each(items="data", number="mobile", ok="id", id="id"),
        ),
        confidence="H", source="wp-sms mobtexting.php; vasavi168/docs v2/send-sms-bulk.md",
    ),
    Gateway(
        name="valuefirst", title="ValueFirst HTTP (myvfirst)", region="IN", url="https://http.myvfirst.com",
        path="/smpp/sendsms", encoding=QUERY, headers={"Authorization": "Bearer {token}"},
        required=("token", "sender"), sender="from", message="text", number_format=PLAIN,
        success=Success(status=(200,), text=r"^Sent\.\s*(?P<id>\S*)"),
        confidence="H", source="nammayatri SMS/MyValueFirst",
    ),
    Gateway(
        name="routemobile", title="Route Mobile SMSPlus", region="IN", url="https://sms6.rmlconnect.net:8443",
        path="/bulksms/bulksms", method="GET", encoding=QUERY, required=("username", "password", "sender"),
        credentials={"username": "username", "password": "password"}, static={"dlr": "0"},
        sender="source", to="destination", number_format=PLAIN, dlt_entity="entityid", dlt_template="tempid",
        joiner=None,
        unicode=("type", "0", "2"), success=Success(status=(200,), text=r"^1701\|[^|]*\|(?P<id>[^,\s]+)"),
        confidence="H (request: username, password, type 0/2, dlr, source, destination, message; 1701 = submitted) "
        "/ M (answer layout, DLT entityid, tempid)",
        source="docs: Route Mobile SMSPLUS Bulk HTTP API Specifications v1.0.1 (Route Mobile, 2018-01; copy at "
        "online.documentine.com, seen 2026-12); public sample code (answer layout, DLT fields)",
    ),
    Gateway(
        name="smscountry", title="SMSCountry (legacy bulk)", region="IN", url="https://api.smscountry.com",
        path="/SMSCwebservice_bulk.aspx", credentials={"User": "username", "passwd": "password"},
        required=("username", "password", "sender"), static={"DR": "Y"}, sender="sid", to="mobilenumber",
        number_format=PLAIN, unicode=("mtype", "N", "OL"), success=Success(status=(200,), text=r"^OK:(?P<id>\S+)"),
        confidence="H (request, OK:<job id> answer) / M (mtype OL for UCS-2 texts)",
        source="docs: https://smscountry.com/sms-api-documentation-1.aspx (SMSCountry's HTTP API page: User, passwd, "
        "mobilenumber, message, sid, mtype N/OL/..., DR Y; answer OK:515789649; seen 2026-12); "
        "farooqabdulla4u/ubergradtest SmsApi.vb",
    ),
    Gateway(
        name="netcore", title="Netcore (mytoday) bulk push", region="IN", url="https://bulkpush.mytoday.com",
        path="/BulkSms/SingleMsgApi", method="GET", encoding=QUERY,
        credentials={"feedid": "feedid", "username": "username", "password": "password"},
        required=("feedid", "username", "password"), sender="senderid", to="To", message="Text", number_format=PLAIN,
        dlt_entity="entityid", dlt_template="templateid",
        success=Success(status=(200,), text=r"REQID\s*=\s*['\"]?(?P<id>\d+)"),
        confidence="H (request) / L (XML REQID answer)",
        source="docs: https://emaildocs.netcorecloud.com/reference/single-message-api (Netcore's Single Message API: "
        "feedid, username, password, To comma-joined (max 50), Text, templateid, entityid; no sender parameter listed; "
        "seen 2026-12); public sample code (XML answer)",
    ),
    Gateway(
        name="msgclub", title="MSGClub", region="IN", url="https://msg.msgclub.net",
        path="/rest/services/sendSMS/sendGroupSms", method="GET", encoding=QUERY, credentials={"AUTH_KEY": "auth_key"},
        required=("auth_key", "sender"), static={"routeId": "1"}, options={"routeId": "route"}, sender="senderId",
        to="mobileNos", number_format=PLAIN, unicode=("smsContentType", "english", "unicode"),
        dlt_entity="entityid", dlt_template="templateid",
        success=Success(field="responseCode", values=("3001",), id="response", code="responseCode"),
        confidence="M (request) / L (3001, DLT names)", source="vijayamirtharajxavier/csm MY_Controller.php",
    ),
]
# fmt: on
