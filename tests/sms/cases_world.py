"""Global gateways: requests and answers."""

from __future__ import annotations

from tests.sms.cases_india import DLT, E164, ENTITY, OTHER_PLAIN, PLAIN, TEMPLATE
from tests.sms.harness import OTHER, TEXT, Case

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

US = "+14155552671"
TWILIO = {"account_sid": "AC0123456789abcdef", "auth_token": "tw-token"}
TWILIO_PATH = "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
QUEUE_FULL = {"code": 21611, "message": "This 'From' number has exceeded the maximum number of queued messages"}

CASES = [
    Case(
        "twilio", {**TWILIO, "sender": US}, "POST", TWILIO_PATH, form={"From": US, "To": E164, "Body": TEXT},
        basic=("AC0123456789abcdef", "tw-token"), ok={"sid": "SM123", "status": "queued"}, ok_status=201,
        message_id="SM123", refusal={"sid": "SM124", "status": "failed", "message": "Message delivery failed"},
        retry=(400, QUEUE_FULL, "ProviderUnavailable"),
        refusal_code="failed",
    ),
    Case(
        "twilio_messaging_service", {**TWILIO, "messaging_service_sid": "MG0001"}, "POST", TWILIO_PATH,
        form={"MessagingServiceSid": "MG0001", "To": E164, "Body": TEXT}, basic=("AC0123456789abcdef", "tw-token"),
        ok={"sid": "SM125", "status": "accepted"}, ok_status=201, message_id="SM125",
        refusal={"sid": "SM126", "status": "undelivered"},
        retry=(429, {"code": 20429, "message": "Too Many Requests"}, "RateLimited"),
        refusal_code="undelivered",
    ),
    Case(
        "plivo", {"auth_id": "MAXXXX", "auth_token": "pl-token", "sender": "LABXYZ", "dlt_entity_id": ENTITY},
        "POST", "/v1/Account/MAXXXX/Message/", payload=DLT, basic=("MAXXXX", "pl-token"),
        json={"src": "LABXYZ", "dst": PLAIN, "text": TEXT, "dlt_entity_id": ENTITY, "dlt_template_id": TEMPLATE},
        ok={"api_id": "a1", "message": "message(s) queued", "message_uuid": ["db3ce55a-7f1d-11e1"]}, ok_status=202,
        message_id="db3ce55a-7f1d-11e1", refusal={"api_id": "a2", "error": "src parameter not present"},
        mixed=({"api_id": "a3", "message": "message(s) queued", "message_uuid": ["pl-1"],
                "invalid_number": [OTHER_PLAIN]}, "InvalidRecipient", "invalid_number"), mixed_id="pl-1",
    ),
    Case(
        "vonage", {"api_key": "vn-key", "api_secret": "vn-secret", "sender": "LABXYZ", "dlt_entity_id": ENTITY},
        "POST", "/sms/json", payload=DLT, basic=("vn-key", "vn-secret"),
        form={"from": "LABXYZ", "to": PLAIN, "text": TEXT, "entity-id": ENTITY, "content-id": TEMPLATE},
        ok={"message-count": "1", "messages": [{"to": PLAIN, "message-id": "0A0000000123ABCD1", "status": "0"}]},
        message_id="0A0000000123ABCD1", refusal={"messages": [{"status": "4", "error-text": "Bad Credentials"}]},
        retry=(200, {"messages": [{"status": "1", "error-text": "Throughput Rate Exceeded - please wait [ 978 ]"}]},
               "RateLimited"),
        refusal_code="4",
    ),
    Case(
        "infobip", {"api_key": "ib-key", "sender": "LABXYZ", "dlt_entity_id": ENTITY}, "POST",
        "/sms/2/text/advanced", payload=DLT, headers={"Authorization": "App ib-key"},
        json={"messages": [{"destinations": [{"to": PLAIN}], "text": TEXT, "from": "LABXYZ",
                            "regional": {"indiaDlt": {"principalEntityId": ENTITY, "contentTemplateId": TEMPLATE}}}]},
        ok={"bulkId": "b1", "messages": [{"to": PLAIN, "status": {"groupId": 1, "groupName": "PENDING"},
                                          "messageId": "ib-msg-1"}]},
        message_id="ib-msg-1",
        refusal={"messages": [{"to": PLAIN, "status": {"groupName": "REJECTED", "description": "Not enough credits"}}]},
        mixed=({"bulkId": "b2", "messages": [
            {"to": PLAIN, "status": {"groupId": 1, "groupName": "PENDING", "name": "PENDING_ENROUTE"}, "messageId": "ib-2"},
            {"to": OTHER_PLAIN, "status": {"groupId": 5, "groupName": "REJECTED", "name": "REJECTED_DESTINATION",
                                           "description": "Invalid destination address."}, "messageId": "ib-3"}]},
               "InvalidRecipient", "REJECTED_DESTINATION"), mixed_id="ib-2",
        refusal_code="REJECTED",
    ),
    Case(
        "messagebird", {"access_key": "mb-key", "sender": "LABXYZ"}, "POST", "/messages",
        json={"originator": "LABXYZ", "recipients": PLAIN, "body": TEXT}, headers={"Authorization": "AccessKey mb-key"},
        ok={"id": "mb-1", "recipients": {"totalCount": 1, "items": [{"recipient": 919876543210, "status": "sent"}]}},
        ok_status=201, message_id="mb-1",
        refusal={"errors": [{"code": 2, "description": "Request not allowed (incorrect access_key)"}]},
        mixed=({"id": "mb-2", "recipients": {"totalCount": 2, "items": [
            {"recipient": 919876543210, "status": "sent"}, {"recipient": int(OTHER_PLAIN), "status": "delivery_failed"}]}},
               "ProviderRejected", "delivery_failed"), mixed_id="mb-2",
        refusal_code="2",
    ),
    Case(
        "sinch", {"service_plan_id": "sp1", "api_token": "sn-token", "sender": US}, "POST", "/xms/v1/sp1/batches",
        json={"from": US, "to": [E164], "body": TEXT}, headers={"Authorization": "Bearer sn-token"},
        ok={"id": "01FC66621XXXXX119Z8PMV1QPQ", "to": [E164]}, ok_status=201, message_id="01FC66621XXXXX119Z8PMV1QPQ",
        refusal={"code": "syntax_invalid_parameter_format", "text": "Invalid from"},
        refusal_code="syntax_invalid_parameter_format",
    ),
    Case(
        "clickatell", {"api_key": "ck-key"}, "GET", "/messages/http/send",
        query={"apiKey": "ck-key", "to": PLAIN, "content": TEXT},
        ok={"messages": [{"apiMessageId": "ck-1", "accepted": True, "to": PLAIN, "error": None}], "error": None},
        ok_status=202, message_id="ck-1",
        refusal={"messages": [{"apiMessageId": None, "accepted": False, "to": PLAIN,
                               "error": "Invalid destination address."}], "error": None},
        refusal_error="InvalidRecipient",
        mixed=({"messages": [{"apiMessageId": "ck-2", "accepted": True, "to": PLAIN, "error": None},
                             {"apiMessageId": None, "accepted": False, "to": OTHER_PLAIN,
                              "error": "Invalid destination address."}], "error": None},
               "InvalidRecipient", ""), mixed_id="ck-2",
    ),
    Case(
        "telnyx", {"api_key": "tx-key", "sender": US}, "POST", "/v2/messages", json={"from": US, "to": E164, "text": TEXT},
        headers={"Authorization": "Bearer tx-key"}, ok={"data": {"id": "tx-1", "to": [{"status": "queued"}]}},
        message_id="tx-1", refusal={"errors": [{"code": "10002", "detail": "The destination number is invalid"}]},
        refusal_error="InvalidRecipient",
        refusal_code="10002",
    ),
    Case(
        "africastalking", {"api_key": "at-key", "username": "sandbox", "sender": "LABXYZ"}, "POST",
        "/version1/messaging", form={"username": "sandbox", "from": "LABXYZ", "to": E164, "message": TEXT},
        headers={"apiKey": "at-key", "Accept": "application/json"}, ok_status=201,
        ok={"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [
            {"statusCode": 101, "number": E164, "status": "Success", "messageId": "ATXid_1"}]}},
        message_id="ATXid_1",
        refusal={"SMSMessageData": {"Message": "Sent to 0/1", "Recipients": [
            {"statusCode": 406, "number": E164, "status": "UserInBlacklist", "messageId": "None"}]}},
        mixed=({"SMSMessageData": {"Message": "Sent to 1/2 Total Cost: KES 0.8000", "Recipients": [
            {"statusCode": 101, "number": E164, "status": "Success", "cost": "KES 0.8000", "messageId": "ATXid_2"},
            {"statusCode": 403, "number": OTHER, "status": "InvalidPhoneNumber", "cost": "0", "messageId": "None"}]}},
               "InvalidRecipient", "403 InvalidPhoneNumber"), mixed_id="ATXid_2",
        refusal_code="406 UserInBlacklist",
    ),
    Case(
        "bandwidth", {"account_id": "9900000", "username": "bw-user", "password": "bw-pass",
                      "application_id": "app-1", "sender": US},
        "POST", "/api/v2/users/9900000/messages", basic=("bw-user", "bw-pass"),
        json={"applicationId": "app-1", "from": US, "to": [E164], "text": TEXT},
        ok={"id": "1589228074636lm4k2je7j7jklbn2", "owner": US}, ok_status=202,
        message_id="1589228074636lm4k2je7j7jklbn2", refusal={"description": "Your request could not be accepted"},
    ),
    Case(
        "clicksend", {"username": "cs-user", "api_key": "cs-key", "sender": "LABXYZ"}, "POST", "/v3/sms/send",
        json={"messages": [{"source": "fusion", "body": TEXT, "from": "LABXYZ", "to": E164}]},
        basic=("cs-user", "cs-key"),
        ok={"response_code": "SUCCESS", "data": {"messages": [{"to": E164, "message_id": "cs-1", "status": "SUCCESS"}]}},
        message_id="cs-1",
        refusal={"response_code": "SUCCESS", "response_msg": "Invalid recipient",
                 "data": {"messages": [{"status": "INVALID_RECIPIENT"}]}},
        refusal_error="InvalidRecipient",
        mixed=({"http_code": 200, "response_code": "SUCCESS", "response_msg": "Messages queued for delivery.",
                "data": {"messages": [{"to": E164, "message_id": "cs-2", "status": "SUCCESS"},
                                      {"to": OTHER, "message_id": "cs-3", "status": "INVALID_RECIPIENT"}]}},
               "InvalidRecipient", "INVALID_RECIPIENT"), mixed_id="cs-2",
        refusal_code="INVALID_RECIPIENT",
    ),
    Case(
        "d7networks", {"api_token": "d7-token", "sender": "LABXYZ"}, "POST", "/messages/v1/send",
        json={"messages": [{"channel": "sms", "recipients": [E164], "content": TEXT, "data_coding": "text"}],
              "message_globals": {"originator": "LABXYZ"}},
        headers={"Authorization": "Bearer d7-token"}, ok={"request_id": "d7-1", "status": "accepted"},
        message_id="d7-1", refusal={"detail": {"code": "ACCESS_DENIED", "message": "Invalid token"}},
        refusal_code="ACCESS_DENIED",
    ),
]
# fmt: on
