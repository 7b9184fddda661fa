"""Fallback on retryable failures only; numbers already accepted are never sent twice."""

from __future__ import annotations

import pytest

import errors
from tasks.gateways.accounts import Account
from tasks.gateways.delivery import Ledger, Sms, deliver
from tasks.gateways.encoding import detect
from tasks.sms import send_sms
from tests.sms.harness import NUMBER, TEXT, textlocal_ok

TWILIO_PATH = "/tw/2010-04-01/Accounts/AC1/Messages.json"


def task(httpserver, primary: str = "textlocal") -> dict:
    first = {"gateway": primary, "config": {"api_key": "tl-key", "base_url": httpserver.url_for("/tl")}}
    second = {
        "gateway": "msg91_sendhttp",
        "config": {"auth_key": "m91-key", "sender": "LABXYZ", "base_url": httpserver.url_for("/m91")},
    }
    return {"payload": {"task": 1, **first, "to": NUMBER, "message": TEXT, "fallback": [second]}}


def test_retryable_failure_falls_back(httpserver, settings) -> None:
    httpserver.expect_request("/tl/send/").respond_with_data("busy", status=503)
    httpserver.expect_request("/m91/api/sendhttp.php").respond_with_data("5134842646923e183d000075")
    result = send_sms(task(httpserver))
    assert [r.path for r, _ in httpserver.log] == ["/tl/send/", "/m91/api/sendhttp.php"]
    assert result["gateway"] == "msg91_sendhttp"
    assert result["provider_message_id"] == "5134842646923e183d000075"


def test_queue_full_answer_falls_back(httpserver, settings) -> None:
    body = {"status": "failure", "errors": [{"code": 80, "message": "Queue is full, try later"}]}
    httpserver.expect_request("/tl/send/").respond_with_json(body)
    httpserver.expect_request("/m91/api/sendhttp.php").respond_with_data("5134842646923e183d000075")
    assert send_sms(task(httpserver))["gateway"] == "msg91_sendhttp"


def test_permanent_failure_does_not_fall_back(httpserver, settings) -> None:
    body = {"status": "failure", "errors": [{"code": 3, "message": "Invalid login details"}]}
    httpserver.expect_request("/tl/send/").respond_with_json(body)
    with pytest.raises(errors.ProviderRejected, match="Invalid login details"):
        send_sms(task(httpserver))
    assert [r.path for r, _ in httpserver.log] == ["/tl/send/"]


def test_every_gateway_failing_is_retryable_with_every_reason(httpserver, settings) -> None:
    httpserver.expect_request("/tl/send/").respond_with_data("busy", status=503)
    httpserver.expect_request("/m91/api/sendhttp.php").respond_with_data("slow down", status=429)
    with pytest.raises(errors.RateLimited) as caught:
        send_sms(task(httpserver))
    assert "textlocal: HTTP 503" in str(caught.value) and "msg91_sendhttp: HTTP 429" in str(caught.value)


def test_unknown_fallback_gateway_fails_before_any_request(httpserver, settings) -> None:
    bad = task(httpserver)
    bad["payload"]["fallback"] = [{"gateway": "nosuch", "config": {}}]
    with pytest.raises(errors.ConfigurationError, match="unknown SMS gateway 'nosuch'"):
        send_sms(bad)
    assert httpserver.log == []


def accounts(httpserver) -> list[Account]:
    twilio = {"account_sid": "AC1", "auth_token": "t", "sender": "+14155552671", "base_url": httpserver.url_for("/tw")}
    textlocal = {"api_key": "k", "base_url": httpserver.url_for("/tl")}
    return [Account("twilio", twilio, "a"), Account("textlocal", textlocal, "b")]


def test_per_number_gateway_falls_back_for_the_remaining_numbers_only(httpserver, settings) -> None:
    httpserver.expect_oneshot_request(TWILIO_PATH).respond_with_json({"sid": "SM1", "status": "queued"}, status=201)
    httpserver.expect_oneshot_request(TWILIO_PATH).respond_with_data("down", status=502)
    httpserver.expect_request("/tl/send/").respond_with_json(textlocal_ok("+919123456780", batch=9))
    sms = Sms(("+919876543210", "+919123456780"), TEXT, detect(TEXT))
    ledger = deliver(accounts(httpserver), sms, Ledger("sms"))
    assert ledger.sent == {"+919876543210": ("twilio", "SM1"), "+919123456780": ("textlocal", "9")}
    textlocal_request = httpserver.log[-1][0]
    assert textlocal_request.form["numbers"] == "919123456780"


def test_a_retried_job_skips_numbers_already_accepted(httpserver, settings, conn) -> None:
    httpserver.expect_oneshot_request(TWILIO_PATH).respond_with_json({"sid": "SM1", "status": "queued"}, status=201)
    httpserver.expect_oneshot_request(TWILIO_PATH).respond_with_data("down", status=502)
    httpserver.expect_oneshot_request(TWILIO_PATH).respond_with_json({"sid": "SM2", "status": "queued"}, status=201)
    sms = Sms(("+919876543210", "+919123456780"), TEXT, detect(TEXT))
    only_twilio = accounts(httpserver)[:1]
    with pytest.raises(errors.ProviderUnavailable):
        deliver(only_twilio, sms, Ledger("sms", "job-1", conn).load(sms.numbers))
    ledger = deliver(only_twilio, sms, Ledger("sms", "job-1", conn).load(sms.numbers))  # the retry
    assert [r.form["To"] for r, _ in httpserver.log] == ["+919876543210", "+919123456780", "+919123456780"]
    assert ledger.sent["+919123456780"] == ("twilio", "SM2")
    assert conn.ttl("fusion:delivered:job-1") > 0
