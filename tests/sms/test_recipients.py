"""Per-recipient outcomes: each number judged by its own status in the provider's answer.

Every gateway that batches numbers and reports each one has a ``mixed`` row in its table: an
answer that accepts one number and refuses the other. The job then finishes with a partial
outcome (the accepted number in the ledger, the refused one classified with its code); when
nothing is accepted it fails with every masked number and code; a retryable refusal retries only
the refused numbers.
"""

from __future__ import annotations

import json
import re

import pytest

import errors
from tasks.gateways.delivery import Ledger, Sms, deliver
from tasks.gateways.encoding import detect
from tasks.gateways.registry import GATEWAYS
from tasks.sms import send_sms
from tests.sms.harness import NUMBER, OTHER, TEXT, Case, respond
from tests.sms.test_gateways import CASES, ids

MIXED = [c for c in CASES if c.mixed is not None]
MASKED, OTHER_MASKED = "********3210", "********6780"


def both(case: Case, base_url: str) -> dict:
    task = case.task(base_url)
    task["payload"]["to"] = [NUMBER, OTHER]
    return task


def test_every_gateway_that_reads_each_number_has_a_mixed_row() -> None:
    reads_each = {n for n, g in GATEWAYS.items() if g.batches_numbers and (g.success.each or g.success.refused)}
    assert {c.gateway for c in MIXED} == reads_each


@pytest.mark.parametrize("case", MIXED, ids=ids)
def test_one_accepted_one_refused_is_a_partial_outcome(case: Case, httpserver, settings) -> None:
    assert case.mixed is not None
    answer, error, code = case.mixed
    respond(httpserver, answer, case.ok_status)
    result = send_sms(both(case, httpserver.url_for("/").rstrip("/")))
    assert len(httpserver.log) == 1  # one request for both numbers
    assert result["partial"] is True and result["recipients"] == 2
    assert result["gateway"] == case.gateway and result["provider_message_id"] == case.mixed_id
    accepted, refused = result["results"]
    assert accepted == {"to": MASKED, "gateway": case.gateway, "status": "accepted", "message_id": case.mixed_id}
    assert refused["to"] == OTHER_MASKED and refused["gateway"] == case.gateway
    assert refused["status"] == ("invalid_number" if error == "InvalidRecipient" else "rejected")
    assert code in refused["code"] and OTHER_MASKED in refused["reason"] and case.gateway in refused["reason"]
    assert OTHER.lstrip("+") not in json.dumps(result) and NUMBER.lstrip("+") not in json.dumps(result)


def test_issue_examples_keep_the_per_message_status(httpserver, settings) -> None:
    clicksend = next(c for c in CASES if c.gateway == "clicksend")
    respond(httpserver, {"http_code": 200, "response_code": "SUCCESS", "response_msg": "Messages queued for delivery.",
                         "data": {"messages": [{"to": NUMBER, "status": "INVALID_RECIPIENT"}]}})  # fmt: skip
    with pytest.raises(errors.InvalidRecipient) as caught:
        send_sms(clicksend.task(httpserver.url_for("/").rstrip("/")))
    assert str(caught.value) == f"clicksend: HTTP 200: {MASKED}: INVALID_RECIPIENT"


def test_africastalking_invalid_phone_number(httpserver, settings) -> None:
    case = next(c for c in CASES if c.gateway == "africastalking")
    recipient = {"statusCode": 403, "number": NUMBER, "status": "InvalidPhoneNumber", "cost": "0", "messageId": "None"}
    respond(httpserver, {"SMSMessageData": {"Message": "Sent to 0/1 Total Cost: 0", "Recipients": [recipient]}}, 201)
    with pytest.raises(errors.InvalidRecipient) as caught:
        send_sms(case.task(httpserver.url_for("/").rstrip("/")))
    assert str(caught.value) == f"africastalking: HTTP 201: {MASKED}: 403 InvalidPhoneNumber"


def test_every_number_refused_fails_with_each_masked_number_and_code(httpserver, settings) -> None:
    case = next(c for c in CASES if c.gateway == "africastalking")
    recipients = [
        {"statusCode": 403, "number": NUMBER, "status": "InvalidPhoneNumber", "messageId": "None"},
        {"statusCode": 406, "number": OTHER, "status": "UserInBlacklist", "messageId": "None"},
    ]
    respond(httpserver, {"SMSMessageData": {"Message": "Sent to 0/2", "Recipients": recipients}}, 201)
    with pytest.raises(errors.ProviderRejected) as caught:  # not all invalid numbers: a rejection
        send_sms(both(case, httpserver.url_for("/").rstrip("/")))
    reason = str(caught.value)
    assert f"{MASKED}: 403 InvalidPhoneNumber" in reason and f"{OTHER_MASKED}: 406 UserInBlacklist" in reason
    results = json.loads(caught.value.details["results"])
    assert [r["status"] for r in results] == ["invalid_number", "rejected"]
    assert "98765" not in reason + caught.value.details["results"]


def test_all_invalid_numbers_fail_as_invalid_recipient(httpserver, settings) -> None:
    case = next(c for c in CASES if c.gateway == "clicksend")
    messages = [{"to": NUMBER, "status": "INVALID_RECIPIENT"}, {"to": OTHER, "status": "INVALID_RECIPIENT"}]
    respond(httpserver, {"response_code": "SUCCESS", "data": {"messages": messages}})
    with pytest.raises(errors.InvalidRecipient, match=re.escape(f"{OTHER_MASKED}: INVALID_RECIPIENT")):
        send_sms(both(case, httpserver.url_for("/").rstrip("/")))


def at_accounts(httpserver) -> list:
    from tasks.gateways.accounts import Account

    return [Account("africastalking", {"api_key": "k", "username": "u", "base_url": httpserver.url_for("/at")}, "a")]


def test_a_retryable_refusal_retries_only_that_number(httpserver, settings, conn) -> None:
    first = [
        {"statusCode": 101, "number": NUMBER, "status": "Success", "messageId": "ATX1"},
        {"statusCode": 500, "number": OTHER, "status": "InternalServerError", "messageId": "None"},
    ]
    retry = [{"statusCode": 101, "number": OTHER, "status": "Success", "messageId": "ATX2"}]
    path = "/at/version1/messaging"
    httpserver.expect_oneshot_request(path).respond_with_json({"SMSMessageData": {"Recipients": first}}, status=201)
    httpserver.expect_oneshot_request(path).respond_with_json({"SMSMessageData": {"Recipients": retry}}, status=201)
    sms = Sms((NUMBER, OTHER), TEXT, detect(TEXT))
    with pytest.raises(errors.ProviderUnavailable, match=re.escape(f"{OTHER_MASKED}: 500 InternalServerError")):
        deliver(at_accounts(httpserver), sms, Ledger("sms", "job-at", conn).load(sms.numbers))
    ledger = deliver(at_accounts(httpserver), sms, Ledger("sms", "job-at", conn).load(sms.numbers))  # the retry
    assert [r.form["to"] for r, _ in httpserver.log] == [f"{NUMBER},{OTHER}", OTHER]
    assert ledger.sent == {NUMBER: ("africastalking", "ATX1"), OTHER: ("africastalking", "ATX2")}


def test_one_request_per_number_gateway_goes_on_after_an_invalid_number(httpserver, settings) -> None:
    twilio = next(c for c in CASES if c.gateway == "twilio")
    path = "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    invalid = {"code": 21211, "message": f"The 'To' number {OTHER} is not a valid phone number.", "status": 400}
    httpserver.expect_oneshot_request(path).respond_with_json({"sid": "SM1", "status": "queued"}, status=201)
    httpserver.expect_oneshot_request(path).respond_with_json(invalid, status=400)
    result = send_sms(both(twilio, httpserver.url_for("/").rstrip("/")))
    assert result["partial"] is True and result["provider_message_id"] == "SM1"
    refused = result["results"][1]
    assert refused["status"] == "invalid_number" and "21211" in refused["reason"]
    assert OTHER.lstrip("+") not in refused["reason"]


def test_a_permanent_refusal_on_the_retry_still_counts_the_first_attempts_acceptance(httpserver, settings, conn):
    from tasks.sms import outcome_of

    first = [
        {"statusCode": 101, "number": NUMBER, "status": "Success", "messageId": "ATX1"},
        {"statusCode": 501, "number": OTHER, "status": "GatewayError", "messageId": "None"},
    ]
    retry = [{"statusCode": 403, "number": OTHER, "status": "InvalidPhoneNumber", "messageId": "None"}]
    path = "/at/version1/messaging"
    httpserver.expect_oneshot_request(path).respond_with_json({"SMSMessageData": {"Recipients": first}}, status=201)
    httpserver.expect_oneshot_request(path).respond_with_json({"SMSMessageData": {"Recipients": retry}}, status=201)
    sms = Sms((NUMBER, OTHER), TEXT, detect(TEXT))
    with pytest.raises(errors.ProviderUnavailable):
        deliver(at_accounts(httpserver), sms, Ledger("sms", "job-at2", conn).load(sms.numbers))
    result = outcome_of(sms, deliver(at_accounts(httpserver), sms, Ledger("sms", "job-at2", conn).load(sms.numbers)))
    assert result["partial"] is True and [r["status"] for r in result["results"]] == ["accepted", "invalid_number"]
    assert [r.form["to"] for r, _ in httpserver.log] == [f"{NUMBER},{OTHER}", OTHER]
