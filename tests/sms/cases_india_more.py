"""More Indian gateways: requests and answers."""

from __future__ import annotations

from tests.sms.cases_india import DLT, ENTITY, OTHER_PLAIN, PLAIN, TEMPLATE
from tests.sms.harness import TEXT, Case

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

CASES = [
    Case(
        "springedge", {"api_key": "se-key", "sender": "LABXYZ"}, "GET", "/api/web/send/",
        query={"format": "json", "apikey": "se-key", "sender": "LABXYZ", "to": PLAIN, "message": TEXT},
        ok={"MessageIDs": "se-1", "status": "AWAITED-DLR", "to": PLAIN}, message_id="se-1",
        refusal={"error": "Invalid API key"},
    ),
    Case(
        "smsgatewayhub", {"api_key": "gh-key", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "GET", "/api/mt/SendSMS",
        payload=DLT,
        query={"channel": "Trans", "flashsms": "0", "APIKey": "gh-key", "senderid": "LABXYZ", "number": PLAIN,
               "text": TEXT, "PEID": ENTITY, "DLTTemplateId": TEMPLATE, "DCS": "0"},
        ok={"ErrorCode": "000", "ErrorMessage": "Done", "JobId": "381a8090",
            "MessageData": [{"Number": PLAIN, "MessageId": "mvHdpSyS7UOs9hjxixQLvw"}]},
        message_id="mvHdpSyS7UOs9hjxixQLvw",
        refusal={"ErrorCode": "013", "ErrorMessage": "Invalid template", "JobId": None},
        mixed=({"ErrorCode": "000", "ErrorMessage": "Done", "JobId": "381a8091",
                "MessageData": [{"Number": PLAIN, "MessageId": "gh-1"}, {"Number": OTHER_PLAIN, "MessageId": None}]},
               "ProviderRejected", "no status"), mixed_id="gh-1",
        refusal_code="013",
    ),
    Case(
        "smsgatewaycenter", {"username": "sgc-user", "password": "sgc-pass", "sender": "LABXYZ",
                             "dlt_entity_id": ENTITY},
        "GET", "/SMSApi/rest/send", payload=DLT,
        query={"sendMethod": "simpleMsg", "format": "json", "userId": "sgc-user", "password": "sgc-pass",
               "senderId": "LABXYZ", "mobile": PLAIN, "msg": TEXT, "msgType": "text", "dltEntityId": ENTITY,
               "dltTemplateId": TEMPLATE},
        ok={"status": "success", "transactionId": "tx-1", "mobile": PLAIN}, message_id="tx-1",
        refusal={"status": "error", "statusCode": "106", "reason": "Invalid Sender Id"},
        refusal_code="106",
    ),
    Case(
        "pinbix", {"userid": "pb-user", "password": "pb-pass", "sender": "LABXYZ"}, "GET", "/",
        query={"sendMethod": "quick", "output": "json", "userid": "pb-user", "password": "pb-pass",
               "senderid": "LABXYZ", "mobile": PLAIN, "msg": TEXT, "msgType": "text"},
        ok={"status": "Success", "statusCode": "200", "transactionId": "pb-1"}, message_id="pb-1",
        refusal={"status": "error", "statusCode": "111", "reason": "Invalid mobile number"},
        refusal_error="InvalidRecipient",
        refusal_code="111",
    ),
    Case(
        "pridesms", {"username": "ps-user", "password": "ps-pass", "sender": "LABXYZ"}, "GET", "/api/v1/sendSMS.php",
        query={"user": "ps-user", "password": "ps-pass", "senderid": "LABXYZ", "number": PLAIN, "text": TEXT},
        ok={"ErrorCode": "000", "ErrorMessage": "Done", "JobId": "ps-1"}, message_id="ps-1",
        refusal={"ErrorCode": "001", "ErrorMessage": "Login details cannot be blank"},
        refusal_code="001",
    ),
    Case(
        "nic", {"username": "nic-user", "pin": "nic-pin", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "POST",
        "/failsafe/HttpLink", payload=DLT,
        form={"username": "nic-user", "pin": "nic-pin", "signature": "LABXYZ", "mnumber": PLAIN, "message": TEXT,
              "dlt_entity_id": ENTITY, "dlt_template_id": TEMPLATE},
        ok="Message Accepted for Request ID=123456789~code=API000 & info=Platform Accepted & Time = 2026/11/29/10/00",
        message_id="123456789", refusal="Message Rejected: code=API204 & info=DLT template mismatch",
    ),
    Case(
        "smsalert", {"api_key": "sa-key", "sender": "LABXYZ"}, "POST", "/api/push.json",
        json={"apikey": "sa-key", "sender": "LABXYZ", "mobileno": PLAIN, "text": TEXT},
        ok={"status": "success", "description": {"batchid": "sa-1"}}, message_id="sa-1",
        refusal={"status": "error", "description": {"desc": "invalid apikey"}},
    ),
]
# fmt: on
