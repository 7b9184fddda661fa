"""Middle East, Africa and Asia gateways: requests and answers."""

from __future__ import annotations

from tests.sms.cases_india import OTHER_PLAIN, PLAIN
from tests.sms.harness import TEXT, Case

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

CASES = [
    Case(
        "unifonic", {"app_sid": "uf-sid", "username": "uf-user", "password": "uf-pass", "sender": "LABXYZ"}, "POST",
        "/rest/SMS/messages", form={"AppSid": "uf-sid", "SenderID": "LABXYZ", "Recipient": PLAIN, "Body": TEXT},
        basic=("uf-user", "uf-pass"), ok={"success": "true", "errorCode": "ER-00", "data": {"MessageID": "uf-1"}},
        message_id="uf-1", refusal={"success": "false", "message": "Invalid AppSid", "errorCode": "ER-02"},
        refusal_code="ER-02",
    ),
    Case(
        "msegat", {"username": "ms-user", "api_key": "ms-key", "sender": "LABXYZ"}, "POST", "/gw/sendsms.php",
        json={"msgEncoding": "UTF8", "userName": "ms-user", "apiKey": "ms-key", "userSender": "LABXYZ",
              "numbers": PLAIN, "msg": TEXT},
        ok={"code": "1", "message": "Success"}, message_id="", refusal={"code": "M0002", "message": "Invalid login info"},
        refusal_code="M0002",
    ),
    Case(
        "oursms", {"username": "os-user", "token": "os-token", "sender": "LABXYZ"}, "GET", "/api-a/msgs",
        query={"username": "os-user", "token": "os-token", "src": "LABXYZ", "dests": PLAIN, "body": TEXT},
        ok={"msgId": "os-1", "status": "queued"}, message_id="os-1",
        refusal={"errorCode": "ERR_AUTH", "message": "Invalid token"},
        refusal_code="ERR_AUTH",
    ),
    Case(
        "jawalbsms", {"username": "jb-user", "password": "jb-pass", "sender": "LABXYZ"}, "GET", "/api.php/sendsms",
        query={"user": "jb-user", "pass": "jb-pass", "sender": "LABXYZ", "to": PLAIN, "message": TEXT},
        ok="Success", message_id="", refusal="Error: invalid user",
    ),
    Case(
        "taqnyat", {"api_token": "tq-token", "sender": "LABXYZ"}, "POST", "/v1/messages",
        json={"sender": "LABXYZ", "recipients": [PLAIN], "body": TEXT}, headers={"Authorization": "Bearer tq-token"},
        ok={"statusCode": 201, "messageId": "tq-1", "cost": 0.1}, ok_status=201, message_id="tq-1",
        refusal={"statusCode": 401, "message": "Invalid token"},
    ),
    Case(
        "maqsam", {"access_key_id": "mq-key", "access_secret": "mq-secret", "sender": "LABXYZ"}, "POST", "/v2/sms",
        form={"sender": "LABXYZ", "to": PLAIN, "message": TEXT}, basic=("mq-key", "mq-secret"),
        ok={"result": "success", "message": {"identifier": "mq-1"}}, message_id="mq-1",
        refusal={"result": "failure", "message": "Sender not allowed"},
    ),
    Case(
        "mobishastra", {"user": "mo-user", "password": "mo-pass", "sender": "LABXYZ"}, "POST", "/",
        json=[{"user": "mo-user", "pwd": "mo-pass", "number": PLAIN, "msg": TEXT, "sender": "LABXYZ",
               "language": "English"}],
        ok=[{"msg_id": "mo-1", "number": PLAIN, "str_response": "Send Successful"}], message_id="mo-1",
        refusal=[{"msg_id": "", "str_response": "Invalid Sender"}],
        mixed=([{"msg_id": "mo-2", "number": PLAIN, "str_response": "Send Successful"},
                {"msg_id": "", "number": OTHER_PLAIN, "str_response": "Invalid Number"}], "InvalidRecipient", "Invalid"),
        mixed_id="mo-2",
    ),
    Case(
        "termii", {"api_key": "tm-key", "sender": "LABXYZ"}, "POST", "/api/sms/send",
        json={"type": "plain", "channel": "generic", "api_key": "tm-key", "from": "LABXYZ", "to": PLAIN, "sms": TEXT},
        ok={"message_id": "tm-1", "message": "Successfully Sent", "balance": 9}, message_id="tm-1",
        refusal={"message": "Insufficient balance"},
    ),
    Case(
        "sendchamp", {"api_key": "sc-key", "sender": "LABXYZ"}, "POST", "/v1/sms/send",
        json={"route": "dnd", "sender_name": "LABXYZ", "to": [PLAIN], "message": TEXT},
        headers={"Authorization": "Bearer sc-key"},
        ok={"code": 200, "data": {"id": "sc-1", "business_id": "b-1", "status": "sent"}}, message_id="sc-1",
        refusal={"code": 400, "message": "Sender name not approved"},
    ),
    Case(
        "jusibe", {"public_key": "ju-pub", "access_token": "ju-token", "sender": "LABXYZ"}, "POST", "/sms/v1/send",
        form={"from": "LABXYZ", "to": PLAIN, "message": TEXT}, basic=("ju-pub", "ju-token"),
        ok={"status": "Sent", "message_id": "ju-1", "sms_credits_used": 1}, message_id="ju-1",
        refusal={"error": "Invalid credentials"},
    ),
    Case(
        "hostpinnacle", {"api_key": "hp-key", "userid": "hp-user", "password": "hp-pass", "sender": "LABXYZ"},
        "POST", "/SMSApi/send", headers={"apiKey": "hp-key"},
        form={"sendMethod": "quick", "output": "json", "userid": "hp-user", "password": "hp-pass",
              "senderid": "LABXYZ", "mobile": PLAIN, "msg": TEXT, "msgType": "text"},
        ok={"status": "success", "transactionId": "hp-1"}, message_id="hp-1",
        refusal={"status": "error", "reason": "Invalid apiKey"},
    ),
    Case(
        "isend", {"api_token": "is-token", "sender": "LABXYZ"}, "POST", "/api/v3/sms/send",
        json={"sender_id": "LABXYZ", "recipient": PLAIN, "message": TEXT, "type": "plain"},
        headers={"Authorization": "Bearer is-token"}, ok={"status": "success", "data": {"uid": "is-1"}},
        message_id="is-1", refusal={"status": "error", "message": "Unauthenticated"},
    ),
    Case(
        "alpha_sms", {"api_key": "al-key"}, "POST", "/sendsms", form={"api_key": "al-key", "to": PLAIN, "msg": TEXT},
        ok={"error": 0, "msg": "Request successfully submitted", "data": {"request_id": "al-1"}}, message_id="al-1",
        refusal={"error": 405, "msg": "Authorization required"},
        refusal_code="405",
    ),
    Case(
        "mobitel", {"username": "mb-user", "password": "mb-pass", "sender": "LABXYZ"}, "GET",
        "/EnterpriseSMSV3/esmsproxy_multilang.php",
        query={"u": "mb-user", "p": "mb-pass", "a": "LABXYZ", "r": PLAIN, "m": TEXT, "t": "0"},
        ok="200", message_id="", refusal="151",
    ),
    Case(
        "kavenegar", {"api_key": "kv-key"}, "POST", "/v1/kv-key/sms/send.json",
        form={"receptor": PLAIN, "message": TEXT},
        ok={"return": {"status": 200, "message": "ok"}, "entries": [{"messageid": 8792343, "receptor": PLAIN, "status": 1}]},
        message_id="8792343", refusal={"return": {"status": 418, "message": "Insufficient credit"}},
        mixed=({"return": {"status": 200, "message": "ok"}, "entries": [
            {"messageid": 8792344, "receptor": PLAIN, "status": 1, "statustext": "queued"},
            {"messageid": 8792345, "receptor": OTHER_PLAIN, "status": 14, "statustext": "blocked by the recipient"}]},
               "ProviderRejected", "14"), mixed_id="8792344",
        refusal_code="418",
    ),
]
# fmt: on
