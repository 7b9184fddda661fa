"""Europe, Americas and Oceania gateways, and self-hosted bridges: requests and answers."""

from __future__ import annotations

from tests.sms.cases_india import E164, OTHER_PLAIN, PLAIN
from tests.sms.cases_world import US
from tests.sms.harness import OTHER, TEXT, Case

# Declarative tables: one packed row per gateway, kept as written.
# fmt: off

US_TO = {"to": "+12025550143"}

CASES = [
    Case(
        "seven", {"api_key": "sv-key", "sender": "LABXYZ"}, "POST", "/api/sms",
        json={"json": 1, "from": "LABXYZ", "to": PLAIN, "text": TEXT}, headers={"X-Api-Key": "sv-key"},
        ok={"success": "100", "messages": [{"id": "77229", "recipient": PLAIN, "success": True}]}, message_id="77229",
        refusal={"success": "900", "messages": []},
        mixed=({"success": "101", "messages": [
            {"id": "77230", "recipient": PLAIN, "success": True, "error": None, "error_text": None},
            {"id": None, "recipient": OTHER_PLAIN, "success": False, "error": "202", "error_text": "Invalid recipient"}]},
               "InvalidRecipient", "202"), mixed_id="77230",
        refusal_code="900",
    ),
    Case(
        "smsapi", {"api_token": "sa-token", "sender": "LABXYZ"}, "POST", "/sms.do",
        form={"format": "json", "encoding": "utf-8", "from": "LABXYZ", "to": PLAIN, "message": TEXT},
        headers={"Authorization": "Bearer sa-token"},
        ok={"count": 1, "list": [{"id": "sa-1", "points": 0.16, "number": PLAIN, "status": "QUEUE"}]},
        message_id="sa-1", refusal={"error": 101, "message": "Authorization failed"},
        mixed=({"count": 1, "list": [{"id": "sa-2", "points": 0.16, "number": PLAIN, "status": "QUEUE"}]},
               "ProviderRejected", "not in the answer"), mixed_id="sa-2",
        refusal_code="101",
    ),
    Case(
        "serwersms", {"api_token": "sw-token", "sender": "LABXYZ"}, "POST", "/messages/send_sms.json",
        json={"sender": "LABXYZ", "phone": E164, "text": TEXT}, headers={"Authorization": "Bearer sw-token"},
        ok={"success": True, "queued": 1, "items": [{"id": "sw-1", "phone": E164}]}, message_id="sw-1",
        refusal={"error": {"code": 1000, "message": "Authorization failed"}},
        mixed=({"success": True, "queued": 1, "unsent": 1, "items": [
            {"id": "sw-2", "phone": E164, "status": "queued"},
            {"phone": OTHER, "status": "unsent", "error_code": 1301, "error_message": "Invalid phone number"}]},
               "InvalidRecipient", "unsent 1301"), mixed_id="sw-2",
        refusal_code="1000",
    ),
    Case(
        "gatewayapi", {"api_token": "ga-token", "sender": "LABXYZ"}, "POST", "/rest/mtsms",
        json={"sender": "LABXYZ", "message": TEXT, "recipients": [{"msisdn": 919876543210}]}, basic=("ga-token", ""),
        ok={"ids": [421332671], "usage": {}}, message_id="421332671", refusal={"ids": [], "message": "No credit"},
    ),
    Case(
        "fortysixelks", {"username": "el-user", "password": "el-pass", "sender": "LABXYZ"}, "POST", "/a1/sms",
        form={"from": "LABXYZ", "to": E164, "message": TEXT}, basic=("el-user", "el-pass"),
        ok={"status": "created", "id": "s70df59406a1b"}, message_id="s70df59406a1b",
        refusal={"status": "failed", "message": "Insufficient credits"},
    ),
    Case(
        "octopush", {"api_key": "op-key", "api_login": "lab@example.org", "sender": "LABXYZ"}, "POST",
        "/v1/public/sms-campaign/send", headers={"api-key": "op-key", "api-login": "lab@example.org"},
        json={"recipients": [{"phone_number": E164}], "text": TEXT, "type": "sms_premium", "purpose": "alert",
              "sender": "LABXYZ"},
        ok={"sms_ticket": "sms_5d1", "number_of_contacts": 1}, ok_status=201, message_id="sms_5d1",
        refusal={"code": 1, "message": "Invalid login"},
    ),
    Case(
        "smsc", {"login": "sc-login", "password": "sc-pass"}, "POST", "/sys/send.php",
        form={"fmt": "3", "login": "sc-login", "psw": "sc-pass", "phones": PLAIN, "mes": TEXT},
        ok={"id": 12, "cnt": 1}, message_id="12", refusal={"error": "authorise error", "error_code": 2},
        retry=(200, {"error": "too many requests", "error_code": 9}, "RateLimited"),
        refusal_code="2",
    ),
    Case(
        "smsmanager", {"api_key": "sm-key"}, "GET", "/Send",
        query={"gateway": "high", "apikey": "sm-key", "number": PLAIN, "message": TEXT},
        ok=f"OK|12345|{PLAIN}", message_id="12345", refusal="ERROR|103|Invalid API key",
    ),
    Case(
        "mitto", {"api_key": "mi-key", "sender": "LABXYZ"}, "POST", "/sms.json",
        json={"from": "LABXYZ", "to": PLAIN, "text": TEXT, "type": "GSM"}, headers={"X-Mitto-API-Key": "mi-key"},
        ok={"id": "mi-1", "responseCode": 0, "responseText": "Success"}, message_id="mi-1",
        refusal={"responseCode": 2, "responseText": "Invalid recipient"}, refusal_error="InvalidRecipient",
        refusal_code="2",
    ),
    Case(
        "bulksms", {"username": "bk-user", "password": "bk-pass", "sender": "LABXYZ"}, "POST", "/v1/messages",
        json={"from": "LABXYZ", "to": [E164], "body": TEXT, "encoding": "TEXT"}, basic=("bk-user", "bk-pass"),
        ok=[{"id": "bk-1", "type": "SENT", "to": E164, "status": {"id": "ACCEPTED.null", "type": "ACCEPTED"}}],
        ok_status=201, message_id="bk-1",
        refusal={"title": "Insufficient Credits", "detail": "You do not have enough credits"},
        mixed=([{"id": "bk-2", "type": "SENT", "to": E164, "status": {"id": "ACCEPTED.null", "type": "ACCEPTED"}},
                {"id": "bk-3", "type": "SENT", "to": OTHER,
                 "status": {"id": "FAILED.UNROUTABLE", "type": "FAILED", "subtype": "UNROUTABLE"}}],
               "ProviderRejected", "FAILED UNROUTABLE"), mixed_id="bk-2",
    ),
    Case(
        "burstsms", {"api_key": "bs-key", "api_secret": "bs-secret", "sender": "LABXYZ"}, "POST", "/send-sms.json",
        form={"from": "LABXYZ", "to": PLAIN, "message": TEXT}, basic=("bs-key", "bs-secret"),
        ok={"message_id": 9223372036, "recipients": 1, "error": {"code": "SUCCESS", "description": "OK"}},
        message_id="9223372036", refusal={"error": {"code": "FIELD_INVALID", "description": "Invalid sender"}},
        refusal_code="FIELD_INVALID",
    ),
    Case(
        "brevo", {"api_key": "br-key", "sender": "LABXYZ"}, "POST", "/v3/transactionalSMS/sms",
        json={"type": "transactional", "sender": "LABXYZ", "recipient": PLAIN, "content": TEXT},
        headers={"api-key": "br-key"}, ok={"reference": "ab1", "messageId": 1511882900176220, "smsCount": 1},
        ok_status=201, message_id="1511882900176220", refusal={"code": "not_enough_credits", "message": "No credits"},
        refusal_code="not_enough_credits",
    ),
    Case(
        "messente", {"username": "ms-user", "password": "ms-pass", "sender": "LABXYZ"}, "POST", "/v1/omnimessage",
        json={"to": E164, "messages": [{"channel": "sms", "text": TEXT, "sender": "LABXYZ"}]},
        basic=("ms-user", "ms-pass"), ok_status=201,
        ok={"messages": [{"channel": "sms", "message_id": "ms-msg-1", "sender": "LABXYZ"}], "omnimessage_id": "ms-omni-1",
            "to": E164},
        message_id="ms-msg-1",
        refusal={"errors": [{"code": "105", "detail": "Invalid or disallowed sender LABXYZ",
                             "source": "payload[sms][sender]", "title": "Invalid data"}]},
        refusal_code="105",
    ),
    Case(
        "httpsms", {"api_key": "hs-key", "sender": US}, "POST", "/v1/messages/send",
        json={"from": US, "to": E164, "content": TEXT}, headers={"x-api-key": "hs-key"},
        ok={"data": {"id": "hs-1"}, "status": "success"}, message_id="hs-1",
        refusal={"status": "error", "message": "phone not found"},
    ),
    Case(
        "voipms", {"username": "vm-user", "password": "vm-pass", "sender": "4155552671"}, "GET", "/api/v1/rest.php",
        payload=US_TO,
        query={"method": "sendSMS", "api_username": "vm-user", "api_password": "vm-pass", "did": "4155552671",
               "dst": "2025550143", "message": TEXT},
        ok={"status": "success", "sms": "23434"}, message_id="23434", refusal={"status": "invalid_dst"},
        refusal_error="InvalidRecipient",
    ),
    Case(
        "simpletexting", {"api_token": "st-token"}, "POST", "/v2/api/messages", payload=US_TO,
        json={"mode": "AutoDetect", "contactPhone": "2025550143", "text": TEXT},
        headers={"Authorization": "Bearer st-token"}, ok={"id": "st-1", "credits": 1}, message_id="st-1",
        refusal={"code": "ACCOUNT_PHONE", "message": "Account phone not found"},
    ),
    Case(
        "firetext", {"api_key": "ft-key", "sender": "LABXYZ"}, "GET", "/api/sendsms",
        query={"apiKey": "ft-key", "from": "LABXYZ", "to": PLAIN, "message": TEXT},
        ok="0:1 SMS successfully queued", message_id="", refusal="1:Authentication error",
    ),
    Case(
        "verimor", {"username": "vr-user", "password": "vr-pass", "sender": "LABXYZ"}, "GET", "/v2/send",
        query={"username": "vr-user", "password": "vr-pass", "source_addr": "LABXYZ", "dest": PLAIN, "msg": TEXT},
        ok="123456", message_id="123456", refusal="INVALID_SOURCE_ADDRESS",
    ),
    Case(
        "kannel", {"username": "kn-user", "password": "kn-pass", "sender": "LABXYZ"}, "GET", "/cgi-bin/sendsms",
        query={"charset": "UTF-8", "username": "kn-user", "password": "kn-pass", "from": "LABXYZ", "to": PLAIN,
               "text": TEXT},
        ok="0: Accepted for delivery", ok_status=202, message_id="", refusal="Authorization failed for sendsms",
    ),
]
# fmt: on
