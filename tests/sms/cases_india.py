"""Indian gateways: the request each provider documents and the answers it gives."""

from __future__ import annotations

from tests.sms.harness import OTHER, TEXT, Case

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

PLAIN, NATIONAL, E164 = "919876543210", "9876543210", "+919876543210"
#: The second number (harness.OTHER) without the plus.
OTHER_PLAIN = OTHER.lstrip("+")
ENTITY, TEMPLATE = "1201159100000000001", "1207161234567890123"
DLT = {"template_id": TEMPLATE}

CASES = [
    Case(
        "msg91", {"auth_key": "m91-authkey"}, "POST", "/api/v5/flow/", payload={"template_id": "flow-tmpl-1"},
        json={"template_id": "flow-tmpl-1", "short_url": "0", "recipients": [{"mobiles": PLAIN, "body": TEXT}]},
        headers={"authkey": "m91-authkey"}, ok={"message": "5762846b4f8d285d378b4567", "type": "success"},
        message_id="5762846b4f8d285d378b4567", refusal={"type": "error", "message": "Invalid template id"},
    ),
    Case(
        "msg91_v2", {"auth_key": "m91-authkey", "sender": "LABXYZ"}, "POST", "/api/v2/sendsms", payload=DLT,
        json={"sender": "LABXYZ", "route": "4", "country": "0", "unicode": 0, "DLT_TE_ID": TEMPLATE,
              "sms": [{"message": TEXT, "to": [PLAIN]}]},
        headers={"authkey": "m91-authkey"}, ok={"message": "5762846b4f8d285d378b4567", "type": "success"},
        message_id="5762846b4f8d285d378b4567",
        refusal={"type": "error", "message": "Missing Authentication Key", "code": "106"}, refusal_code="106",
    ),
    Case(
        "msg91_sendhttp", {"auth_key": "m91-authkey", "sender": "LABXYZ"}, "GET", "/api/sendhttp.php", payload=DLT,
        query={"authkey": "m91-authkey", "route": "4", "country": "0", "sender": "LABXYZ", "mobiles": PLAIN,
               "message": TEXT, "DLT_TE_ID": TEMPLATE},
        ok="5134842646923e183d000075", message_id="5134842646923e183d000075", refusal="Authentication failure",
    ),
    Case(
        "msgwow", {"auth_key": "wow-authkey", "sender": "LABXYZ"}, "GET", "/api/v2/sendsms", payload=DLT,
        query={"authkey": "wow-authkey", "route": "4", "country": "0", "sender": "LABXYZ", "mobiles": PLAIN,
               "message": TEXT, "DLT_TE_ID": TEMPLATE},
        ok={"type": "success", "message": "wow-1"}, message_id="wow-1",
        refusal={"type": "error", "message": "Invalid sender"},
    ),
    Case(
        "textlocal", {"api_key": "tl-apikey"}, "POST", "/send/", payload={"sender": "LABXYZ"},
        form={"apikey": "tl-apikey", "sender": "LABXYZ", "numbers": PLAIN, "message": TEXT},
        ok={"status": "success", "batch_id": 123456789, "messages": [{"id": "1151346216", "recipient": 919876543210}]},
        message_id="1151346216", refusal={"status": "failure", "errors": [{"code": 3, "message": "Invalid login details"}]},
        mixed=({"status": "success", "batch_id": 7, "messages": [{"id": "tl-1", "recipient": 919876543210}]},
               "ProviderRejected", "not in the answer"), mixed_id="tl-1",
        refusal_code="3",
    ),
    Case(
        "gupshup", {"userid": "2000123456", "password": "gs-pass", "sender": "LABXYZ", "dlt_entity_id": ENTITY},
        "GET", "/GatewayAPI/rest", payload=DLT,
        query={"method": "sendMessage", "v": "1.1", "auth_scheme": "plain", "format": "json", "userid": "2000123456",
               "password": "gs-pass", "mask": "LABXYZ", "send_to": PLAIN, "msg": TEXT, "principalEntityId": ENTITY,
               "dltTemplateId": TEMPLATE, "msg_type": "TEXT"},
        ok={"response": {"id": "3962183950112212345", "phone": PLAIN, "details": "", "status": "success"}},
        message_id="3962183950112212345",
        refusal={"response": {"id": "105", "phone": "", "details": "Authentication failed", "status": "error"}},
        refusal_code="105",
    ),
    Case(
        "kaleyra", {"sid": "HXIN1234", "api_key": "kal-apikey", "sender": "LABXYZ"}, "POST", "/v1/HXIN1234/messages",
        payload=DLT, json={"type": "TXN", "sender": "LABXYZ", "to": E164, "body": TEXT, "template_id": TEMPLATE},
        headers={"api-key": "kal-apikey"}, ok={"id": "kal-1", "data": [{"message_id": "m-1", "recipient": E164}]},
        ok_status=202, message_id="kal-1", refusal={"error": {"code": "E413", "message": "Invalid template id"}},
        refusal_code="E413",
    ),
    Case(
        "kaleyra_v4", {"api_key": "si-apikey", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "GET", "/v4/",
        payload=DLT,
        query={"method": "sms", "format": "json", "api_key": "si-apikey", "sender": "LABXYZ", "to": PLAIN,
               "message": TEXT, "entity_id": ENTITY, "template_id": TEMPLATE},
        ok={"status": "OK", "message": "Submitted successfully",
            "data": {"0": {"id": "4429996893:1", "customid": "", "customid1": "", "customid2": "", "mobile": PLAIN,
                           "status": "AWAITED-DLR"}}},
        message_id="4429996893:1", refusal={"status": "A401B", "message": "Authentication failed"},
        refusal_code="A401B",
    ),
    Case(
        "exotel", {"account_sid": "labco1", "api_key": "exo-key", "api_token": "exo-token", "sender": "LABXYZ",
                   "dlt_entity_id": ENTITY},
        "POST", "/v1/Accounts/labco1/Sms/send.json", payload=DLT, basic=("exo-key", "exo-token"),
        form={"From": "LABXYZ", "To": E164, "Body": TEXT, "DltEntityId": ENTITY, "DltTemplateId": TEMPLATE,
              "EncodingType": "plain"},
        ok={"SMSMessage": {"Sid": "b6f1c0", "Status": "queued"}}, message_id="b6f1c0",
        refusal={"SMSMessage": {"Sid": "b6f1c1", "Status": "failed-dnd", "DetailedStatus": "FAILED_DND"}},
        refusal_code="failed-dnd",
    ),
    Case(
        "twofactor", {"api_key": "2f-apikey", "sender": "LABXYZ"}, "GET", "/API/R1/",
        query={"module": "TRANS_SMS", "apikey": "2f-apikey", "from": "LABXYZ", "to": PLAIN, "msg": TEXT},
        ok={"Status": "Success", "Details": "sess-1"}, message_id="sess-1",
        refusal={"Status": "Error", "Details": "Invalid API Key"},
    ),
    Case(
        "fast2sms", {"api_key": "f2s-apikey", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "POST", "/dev/bulkV2",
        payload=DLT, headers={"authorization": "f2s-apikey"},
        form={"route": "dlt_manual", "flash": "0", "sender_id": "LABXYZ", "numbers": NATIONAL, "message": TEXT,
              "entity_id": ENTITY, "template_id": TEMPLATE},
        ok={"return": True, "request_id": "lwdtp7cjyqxvfe9", "message": ["SMS sent successfully."]},
        message_id="lwdtp7cjyqxvfe9",
        refusal={"return": False, "status_code": 412, "message": "Invalid Authentication, Check Authorization Key"},
        refusal_code="412",
    ),
    Case(
        "karix", {"api_key": "karix-key", "sender": "LABXYZ"}, "POST", "/httpapi/JsonReceiver",
        json={"ver": "1.0", "key": "karix-key", "messages": [{"dest": [PLAIN], "text": TEXT, "send": "LABXYZ"}]},
        ok={"ackid": "ack-1", "time": "2026-11-29 10:00:00", "status": {"code": "200", "desc": "Message accepted"}},
        message_id="ack-1", refusal={"status": {"code": "-130", "desc": "Invalid sender id"}},
        refusal_code="-130",
    ),
    Case(
        "mobtexting", {"access_token": "mt-token", "sender": "LABXYZ"}, "POST", "/api/v2/sms/send",
        form={"service": "T", "access_token": "mt-token", "sender": "LABXYZ", "to": PLAIN, "message": TEXT},
        ok={"status": "success", "data": [{"id": "mt-1", "mobile": PLAIN}]}, ok_status=201, message_id="mt-1",
        refusal={"status": "error", "message": "Invalid access token"},
        mixed=({"status": "success", "data": [{"id": "mt-2", "mobile": PLAIN}]}, "ProviderRejected", "not in the answer"),
        mixed_id="mt-2",
    ),
    Case(
        "valuefirst", {"token": "vf-token", "sender": "LABXYZ"}, "POST", "/smpp/sendsms",
        query={"from": "LABXYZ", "to": PLAIN, "text": TEXT}, headers={"Authorization": "Bearer vf-token"},
        ok="Sent.", message_id="", refusal="Invalid Receiver", refusal_error="InvalidRecipient",
    ),
    Case(
        "routemobile", {"username": "rm-user", "password": "rm-pass", "sender": "LABXYZ", "dlt_entity_id": ENTITY},
        "GET", "/bulksms/bulksms", payload=DLT,
        query={"dlr": "0", "username": "rm-user", "password": "rm-pass", "source": "LABXYZ", "destination": PLAIN,
               "message": TEXT, "entityid": ENTITY, "tempid": TEMPLATE, "type": "0"},
        ok=f"1701|{PLAIN}|a1b2c3d4-e5f6", message_id="a1b2c3d4-e5f6", refusal="1703|Invalid username or password",
    ),
    Case(
        "smscountry", {"username": "sc-user", "password": "sc-pass", "sender": "LABXYZ"}, "POST",
        "/SMSCwebservice_bulk.aspx",
        form={"DR": "Y", "User": "sc-user", "passwd": "sc-pass", "sid": "LABXYZ", "mobilenumber": PLAIN,
              "message": TEXT, "mtype": "N"},
        ok="OK:515789649", message_id="515789649", refusal="ERROR:Invalid Username or Password",
    ),
    Case(
        "netcore", {"feedid": "392231", "username": "nc-user", "password": "nc-pass", "sender": "LABXYZ",
                    "dlt_entity_id": ENTITY},
        "GET", "/BulkSms/SingleMsgApi", payload=DLT,
        query={"feedid": "392231", "username": "nc-user", "password": "nc-pass", "senderid": "LABXYZ", "To": PLAIN,
               "Text": TEXT, "entityid": ENTITY, "templateid": TEMPLATE},
        ok="<RESULT REQID ='4567890'><MID SUBMITDATE='2026-11-29 10:00:00' ID='1' TID='123'></MID></RESULT>",
        message_id="4567890", refusal="<RESULT><ERROR><CODE>102</CODE><DESC>Invalid password</DESC></ERROR></RESULT>",
    ),
    Case(
        "msgclub", {"auth_key": "mc-key", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "GET",
        "/rest/services/sendSMS/sendGroupSms", payload=DLT,
        query={"routeId": "1", "AUTH_KEY": "mc-key", "senderId": "LABXYZ", "mobileNos": PLAIN, "message": TEXT,
               "entityid": ENTITY, "templateid": TEMPLATE, "smsContentType": "english"},
        ok={"responseCode": "3001", "response": "mc-req-1"}, message_id="mc-req-1",
        refusal={"responseCode": "3002", "response": "Invalid AUTH_KEY"},
        refusal_code="3002",
    ),
]
# fmt: on
