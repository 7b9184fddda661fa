"""End to end through the worker: a job on rq:queue:sms, the fake gateway, the callbacks."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from rq.job import Job

from rq_ext import contract, enqueue
from tests.sms.harness import NUMBER, textlocal_ok

LONG = "Dear patient, your lab report LAB-42 is ready. " * 4  # 188 GSM-7 characters: 2 segments


def form(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.get_data(as_text=True), keep_blank_values=True).items()}


def calls(httpserver, path: str) -> list:
    return [request for request, _ in httpserver.log if request.path == path]


def textlocal(httpserver, **payload: object) -> dict:
    config = {"api_key": "tl-key", "base_url": httpserver.url_for("/tl")}
    body = {"task": 1, "gateway": "textlocal", "config": config, "to": NUMBER, "message": LONG, "sender": "LABXYZ"}
    return {"payload": {**body, **payload}, "reference": "REF-7"}


def put(conn, httpserver, task: dict, job_id: str):
    return enqueue(
        "sms",
        "tasks.sms.send_sms",
        task,
        connection=conn,
        job_id=job_id,
        success_task_handler=httpserver.url_for("/done"),
        failed_task_handler=httpserver.url_for("/failed"),
    )


def test_job_reaches_the_gateway_and_the_callback_carries_id_and_segments(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/tl/send/").respond_with_json(textlocal_ok(NUMBER, batch=4242))
    httpserver.expect_request("/done").respond_with_data("ok")
    put(conn, httpserver, textlocal(httpserver), "sms-1")
    run_worker(["sms"])
    assert form(calls(httpserver, "/tl/send/")[0])["numbers"] == "919876543210"
    fields = form(calls(httpserver, "/done")[0])
    assert fields["provider_message_id"] == "4242"
    assert (fields["segments"], fields["encoding"], fields["gateway"]) == ("2", "GSM-7", "textlocal")
    assert (fields["channel"], fields["recipients"], fields["reference"]) == ("sms", "1", "REF-7")
    assert Job.fetch("sms-1", connection=conn).get_status() == "finished"


def test_fallback_through_the_worker(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/tl/send/").respond_with_data("gateway down", status=502)
    httpserver.expect_request("/m91/api/sendhttp.php").respond_with_data("5134842646923e183d000075")
    httpserver.expect_request("/done").respond_with_data("ok")
    second = {"gateway": "msg91_sendhttp", "config": {"auth_key": "k", "base_url": httpserver.url_for("/m91")}}
    put(conn, httpserver, textlocal(httpserver, fallback=[second]), "sms-2")
    run_worker(["sms"])
    fields = form(calls(httpserver, "/done")[0])
    assert (fields["gateway"], fields["provider_message_id"]) == ("msg91_sendhttp", "5134842646923e183d000075")


def test_invalid_number_and_unknown_gateway_fail_clearly_and_the_worker_goes_on(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/tl/send/").respond_with_json(textlocal_ok(NUMBER))
    httpserver.expect_request("/done").respond_with_data("ok")
    httpserver.expect_request("/failed").respond_with_data("ok")
    put(conn, httpserver, textlocal(httpserver, to="+91 55555"), "bad-number")
    put(conn, httpserver, textlocal(httpserver, gateway="nosuchgateway"), "bad-gateway")
    put(conn, httpserver, textlocal(httpserver), "good")
    run_worker(["sms"])
    traces = {f["job_id"]: f["failure_trace"] for f in map(form, calls(httpserver, "/failed"))}
    assert "invalid phone number" in traces["bad-number"] and "55555" not in traces["bad-number"]
    assert "unknown SMS gateway 'nosuchgateway'" in traces["bad-gateway"]
    assert {conn.zscore("rq:failed:sms", j) is not None for j in ("bad-number", "bad-gateway")} == {True}
    assert form(calls(httpserver, "/done")[0])["job_id"] == "good"
    assert len(calls(httpserver, "/tl/send/")) == 1  # only the good job reached the gateway
    assert conn.hget(contract.job_key("bad-number"), contract.RETRY_COUNT) == b"0"


def test_named_account_keeps_secrets_out_of_redis(conn, settings_factory, run_worker, httpserver):
    account = {"gateway": "textlocal", "api_key": "account-secret-key", "base_url": httpserver.url_for("/tl")}
    settings_factory(SMS_ACCOUNTS={"clinic-7": account})
    httpserver.expect_request("/tl/send/").respond_with_json(textlocal_ok(NUMBER, batch=5))
    httpserver.expect_request("/done").respond_with_data("ok")
    task = {"payload": {"task": 1, "account": "clinic-7", "to": NUMBER, "message": "hi", "sender": "LABXYZ"}}
    put(conn, httpserver, task, "acct")
    assert b"account-secret-key" not in b"".join(conn.hgetall(contract.job_key("acct")).values())
    run_worker(["sms"])
    assert form(calls(httpserver, "/tl/send/")[0])["apikey"] == "account-secret-key"


def test_dry_run_sends_nothing(conn, settings_factory, run_worker, httpserver):
    settings_factory(DRY_RUN=True)
    httpserver.expect_request("/done").respond_with_data("ok")
    put(conn, httpserver, textlocal(httpserver), "dry")
    run_worker(["sms"])
    assert calls(httpserver, "/tl/send/") == []
    fields = form(calls(httpserver, "/done")[0])
    assert (fields["dry_run"], fields["segments"]) == ("true", "2")


def test_dry_run_checks_the_payload_but_not_the_credentials(settings_factory):
    import pytest

    import errors
    from tasks.sms import send_sms

    settings_factory(DRY_RUN=True)
    payload = {"task": 1, "gateway": "msg91", "config": {}, "to": NUMBER, "message": "hi"}
    assert send_sms({"payload": payload})["dry_run"] == "true"
    with pytest.raises(errors.InvalidRecipient):
        send_sms({"payload": {**payload, "to": "12345"}})
    with pytest.raises(errors.ConfigurationError):
        send_sms({"payload": {**payload, "gateway": "nosuch"}})


def test_partial_outcome_and_all_refused_through_the_worker(conn, settings, run_worker, httpserver):
    """One number accepted, one refused: the job finishes with partial=true and per-number results;
    every number refused: the job fails and the failure callback carries the same results."""
    other = "+919123456780"
    ok = {"statusCode": 101, "number": NUMBER, "status": "Success", "messageId": "ATX1"}
    bad = {"statusCode": 403, "number": other, "status": "InvalidPhoneNumber", "messageId": "None"}
    at = "/at/version1/messaging"
    httpserver.expect_oneshot_request(at).respond_with_json({"SMSMessageData": {"Recipients": [ok, bad]}}, status=201)
    httpserver.expect_oneshot_request(at).respond_with_json({"SMSMessageData": {"Recipients": [bad]}}, status=201)
    httpserver.expect_request("/done").respond_with_data("ok")
    httpserver.expect_request("/failed").respond_with_data("ok")
    config = {"api_key": "k", "username": "u", "base_url": httpserver.url_for("/at")}
    body = {"task": 1, "gateway": "africastalking", "config": config, "message": "hi"}
    put(conn, httpserver, {"payload": {**body, "to": [NUMBER, other]}}, "sms-partial")
    run_worker(["sms"])
    put(conn, httpserver, {"payload": {**body, "to": other}}, "sms-refused")
    run_worker(["sms"])
    done = form(calls(httpserver, "/done")[0])
    assert Job.fetch("sms-partial", connection=conn).get_status() == "finished"
    assert (done["partial"], done["provider_message_id"], done["recipients"]) == ("true", "ATX1", "2")
    assert json.loads(done["results"]) == [
        {"to": "********3210", "gateway": "africastalking", "status": "accepted", "message_id": "ATX1"},
        {"to": "********6780", "gateway": "africastalking", "status": "invalid_number", "code": "403 InvalidPhoneNumber",
         "reason": "africastalking: HTTP 201: ********6780: 403 InvalidPhoneNumber"},
    ]  # fmt: skip
    failed = form(calls(httpserver, "/failed")[0])
    assert failed["job_id"] == "sms-refused" and "********6780: 403 InvalidPhoneNumber" in failed["failure_trace"]
    assert json.loads(failed["results"])[0]["status"] == "invalid_number"
    sent = b"".join(r.get_data() for r, _ in httpserver.log if r.path in ("/done", "/failed"))
    assert b"9123456780" not in sent and b"9876543210" not in sent
