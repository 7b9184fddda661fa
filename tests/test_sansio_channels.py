"""The SMS, WhatsApp, push and e-mail channels as plans (:mod:`rq_ext.sansio`), driven by hand: no socket is
opened; every Request is answered (or failed) by the test, and every effect is looked at."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from requests.structures import CaseInsensitiveDict

import errors
import tasks
from rq_ext import contract, sansio
from rq_ext.sansio import Call, Plan, Record, Script
from tasks.email import plan_email, send_email
from tasks.gateways import breaker_scripts
from tasks.gateways.breaker import CLOSED, PROBE, Breaker, Ticket
from tasks.mail.attachments import Attachment
from tasks.push import apns, fcm
from tasks.push.apns import Reply
from tasks.push.token_cache import TokenCache
from tasks.push_notification import plan_push, send_push
from tasks.sms import plan_sms
from tasks.whatsapp import plan_whatsapp
from tests.channels.push_fakes import GOOGLE_TOKEN_URI, PROJECT, service_account
from tests.sms.cases_whatsapp import E164, META, META_OK
from tests.sms.harness import NUMBER, OTHER, TEXT, textlocal_ok
from wrappers.transport import Answer, Request

SINCH = {"service_plan_id": "PLAN1", "api_token": "sinch-token", "sender": "LABXYZ"}
#: A closed loopback port: the textlocal account's base_url is job data (guarded); nothing is sent.
TEXTLOCAL = {"api_key": "tl-key", "base_url": "http://127.0.0.1:9/tl"}


class FakeJob:
    """What a plan reads of its job: the id, a connection (never used: no effect is performed
    here) and an empty ``ledger_fresh`` (its first run: ledger reads are free)."""

    id = "job-sansio-1"

    def __init__(self) -> None:
        self.connection = object()
        self.ledger_fresh: dict[str, str] = {}


def answer(status: int, body: Any) -> Answer:
    kind = "text/plain" if isinstance(body, str) else "application/json"
    content = (body if isinstance(body, str) else json.dumps(body)).encode()
    return Answer(status, "OK", CaseInsensitiveDict({"Content-Type": kind}), content)


def admission(ticket: Ticket) -> list[int]:
    """The admit script's reply that gives ``ticket``."""
    return [PROBE if ticket.probe else CLOSED, 0, ticket.failures]


def until_request(plan: Plan[Any], effect: Any, seen: list[Any], ticket: Ticket | None = None) -> Any:
    """Answer every effect up to the next Request (or the end) as the driver would: a breaker's
    admission gets ``ticket`` (a closed breaker's by default), other Calls and Records nothing.
    The Request, or StopIteration."""
    while not isinstance(effect, Request):
        seen.append(effect)
        admitted = isinstance(effect, Script) and effect.source == breaker_scripts.ADMIT
        result = admission(ticket or Ticket()) if admitted else None
        effect = plan.send(result)
    return effect


def breaker_steps(seen: list[Any]) -> list[tuple[str, str]]:
    """(step, account) of each breaker step among the effects: the admission's Script, the
    settling Calls."""
    steps = []
    for e in seen:
        if isinstance(e, Script) and e.source == breaker_scripts.ADMIT:
            _, gateway, label = e.keys[0][len(contract.BREAKER_PREFIX) :].split(":", 2)
            steps.append(("admit", f"{gateway}/{label}"))
        owner = getattr(e.fn, "__self__", None) if isinstance(e, Call) else None
        if isinstance(owner, Breaker):
            steps.append((e.fn.__name__, owner.name))
    return steps


@pytest.mark.parametrize(
    ("ticket", "steps"),
    [
        (Ticket(), ["admit"]),  # a closed breaker with no failures: its success writes nothing
        (Ticket(failures=2), ["admit", "succeeded"]),  # a run of failures ends
        (Ticket(probe=True), ["admit", "succeeded"]),  # the probe closes it
    ],
)
def test_plan_sms_one_json_request_then_a_record_per_accepted_number(
    settings: Any, ticket: Ticket, steps: list[str]
) -> None:
    task = {"payload": {"task": 1, "gateway": "sinch", "config": SINCH, "to": [NUMBER, OTHER], "message": TEXT}}
    plan = plan_sms(task, FakeJob())
    seen: list[Any] = []
    request = until_request(plan, next(plan), seen, ticket)
    assert request.method == "POST"
    assert request.url == "https://us.sms.api.sinch.com/xms/v1/PLAN1/batches"
    assert request.guarded is False  # the gateway's own URL, from the code
    assert request.headers["Authorization"] == "Bearer sinch-token"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body == {"from": "LABXYZ", "to": [NUMBER, OTHER], "body": TEXT, "client_reference": "job-sansio-1"}
    assert [name for name, _ in breaker_steps(seen)] == ["admit"]
    try:
        until_request(plan, plan.send(answer(201, {"id": "01ABC"})), seen, ticket)
        raise AssertionError("the plan asked for a second request")
    except StopIteration as stop:
        result = stop.value
    records = [e for e in seen if isinstance(e, Record)]
    assert [(r.item, r.value) for r in records] == [(NUMBER, "sinch|01ABC"), (OTHER, "sinch|01ABC")]
    assert {r.ledger.job_id for r in records} == {"job-sansio-1"} and records[0].ledger.channel == "sms"
    assert [name for name, _ in breaker_steps(seen)] == steps
    assert result["gateway"] == "sinch" and result["provider_message_id"] == "01ABC"
    assert result["recipients"] == 2 and result["partial"] is False
    assert [r["status"] for r in result["results"]] == ["accepted", "accepted"]


def test_a_retryable_failure_thrown_in_falls_back_to_the_next_account(settings: Any) -> None:
    second = {"gateway": "textlocal", "config": TEXTLOCAL}
    payload = {"task": 1, "gateway": "sinch", "config": SINCH, "to": NUMBER, "message": TEXT, "fallback": [second]}
    plan = plan_sms({"payload": payload}, FakeJob())
    seen: list[Any] = []
    first = until_request(plan, next(plan), seen)
    assert first.url.startswith("https://us.sms.api.sinch.com/")
    fallback = until_request(plan, plan.throw(errors.ProviderUnavailable("sinch: connection failed")), seen)
    assert fallback.method == "POST" and fallback.url == "http://127.0.0.1:9/tl/send/"
    assert fallback.guarded is True  # base_url came from the payload: the SSRF guard applies
    form = parse_qs(fallback.body.decode())
    assert form["apikey"] == ["tl-key"] and form["numbers"] == [NUMBER.lstrip("+")] and form["message"] == [TEXT]
    assert not [e for e in seen if isinstance(e, Record)]  # sinch accepted nothing
    try:
        until_request(plan, plan.send(answer(200, textlocal_ok(NUMBER, batch=7))), seen)
        raise AssertionError("the plan asked for a third request")
    except StopIteration as stop:
        result = stop.value
    assert [(r.item, r.value) for r in seen if isinstance(r, Record)] == [(NUMBER, "textlocal|7")]
    names = [(step, account.split("/")[0]) for step, account in breaker_steps(seen)]
    assert names == [("admit", "sinch"), ("failed", "sinch"), ("admit", "textlocal")]
    assert result["gateway"] == "textlocal" and result["provider_message_id"] == "7"


def test_a_permanent_refusal_is_not_recorded_and_does_not_fall_back(settings: Any) -> None:
    second = {"gateway": "textlocal", "config": TEXTLOCAL}
    payload = {"task": 1, "gateway": "sinch", "config": SINCH, "to": NUMBER, "message": TEXT, "fallback": [second]}
    plan = plan_sms({"payload": payload}, None)  # outside a worker: no breaker, no client reference
    request = next(plan)
    assert isinstance(request, Request) and "client_reference" not in json.loads(request.body or b"")
    try:
        plan.send(answer(401, {"code": "unauthorized", "text": "Invalid token"}))
        raise AssertionError("the plan went on after a permanent refusal")
    except errors.ProviderRejected as exc:
        assert "sinch" in str(exc) and "sinch-token" not in str(exc)


def test_dry_run_plan_has_no_effect(settings_factory: Any) -> None:
    settings_factory(DRY_RUN=True)
    task = {"payload": {"task": 1, "gateway": "sinch", "config": SINCH, "to": NUMBER, "message": TEXT}}
    plan = plan_sms(task, FakeJob())
    try:
        next(plan)
        raise AssertionError("a dry run yielded an effect")
    except StopIteration as stop:
        assert stop.value["dry_run"] == "true" and stop.value["gateway"] == "sinch"


def test_plan_whatsapp_one_request_and_a_record(settings: Any) -> None:
    payload = {"task": 5, "gateway": "meta", "config": META, "to": E164, "text": "Your report is ready"}
    plan = plan_whatsapp({"payload": payload, "reference": "ref-1"}, FakeJob())
    seen: list[Any] = []
    request = until_request(plan, next(plan), seen)
    assert request.method == "POST" and request.url == "https://graph.facebook.com/v21.0/1055/messages"
    assert request.guarded is False and request.headers["Authorization"] == "Bearer meta-token"
    assert json.loads(request.body)["text"] == {"preview_url": False, "body": "Your report is ready"}
    try:
        until_request(plan, plan.send(answer(200, META_OK)), seen)
        raise AssertionError("the plan asked for a second request")
    except StopIteration as stop:
        result = stop.value
    records = [e for e in seen if isinstance(e, Record)]
    assert [(r.item, r.value, r.ledger.channel) for r in records] == [(E164, "meta|wamid.HBgM", "whatsapp")]
    assert [name for name, _ in breaker_steps(seen)] == ["admit"]
    assert result == {
        "channel": "whatsapp",
        "gateway": "meta",
        "provider_message_id": "wamid.HBgM",
        "message_type": "text",
        "recipients": 1,
    }


def test_whatsapp_transport_failure_thrown_in_is_the_jobs_error_without_its_chain(settings: Any) -> None:
    payload = {"task": 5, "gateway": "meta", "config": META, "to": E164, "text": "Your report is ready"}
    plan = plan_whatsapp({"payload": payload}, None)
    assert isinstance(next(plan), Request)
    cause = OSError("https://graph.facebook.com/... meta-token")
    failure = errors.DeliveryTimeout("meta: timed out (ReadTimeoutError)")
    failure.__cause__ = cause
    try:
        plan.throw(failure)
        raise AssertionError("the plan swallowed the failure")
    except errors.DeliveryTimeout as exc:
        chain: list[BaseException] = []
        error: BaseException | None = exc
        while error is not None:
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        assert failure in chain and cause not in chain  # the transport's own error is dropped


def test_a_plan_closed_under_a_request_hands_the_probe_back(settings: Any, monkeypatch: Any) -> None:
    released: list[Ticket] = []
    monkeypatch.setattr(Breaker, "released", lambda self, ticket: released.append(ticket))
    task = {"payload": {"task": 1, "gateway": "sinch", "config": SINCH, "to": NUMBER, "message": TEXT}}
    plan = plan_sms(task, FakeJob())
    admit = next(plan)
    assert isinstance(admit, Script) and admit.source == breaker_scripts.ADMIT
    probe = Ticket(probe=True)
    assert isinstance(plan.send(admission(probe)), Request)
    plan.close()  # the driver gave up on the job (a cancelled task): no effect can follow
    assert released == [probe]


# -- push and e-mail ------------------------------------------------------------------------------


def by_hand(plan: Plan[Any], respond: Callable[[Any], Any]) -> tuple[Any, list[Any]]:
    """Drive a plan to its end, ``respond`` answering each effect (the sub-plans of a
    ``Together`` driven the same way, one after another); its return value and effects."""
    seen: list[Any] = []
    try:
        effect = next(plan)
        while True:
            seen.append(effect)
            if isinstance(effect, sansio.Together):
                ends = [by_hand(steps, respond) for steps in effect.plans]
                seen += [e for _, effects in ends for e in effects]
                effect = plan.send([value for value, _ in ends])
            else:
                effect = plan.send(respond(effect))
    except StopIteration as stop:
        return stop.value, seen


def records(seen: list[Any]) -> list[tuple[str, str, str]]:
    return [(e.ledger.channel, e.item, e.value) for e in seen if isinstance(e, Record)]


def test_push_and_email_offer_their_plans_to_dispatch(settings: Any) -> None:
    assert sansio.planner_of(send_push) is plan_push and sansio.planner_of(send_email) is plan_email
    for payload in ({"task": 2, **MAIL}, {"task": 3, "platform": "android", "tokens": ["t"], "title": "x"}):
        assert tasks.plan_dispatch({"payload": payload}, FakeJob()) is not None


MAIL = {"from": "Lab <reports@lab.example>", "to": ["asha.k@patients.example"], "subject": "Report", "text": "Hi"}


def test_plan_email_one_ses_call_then_the_record(settings: Any) -> None:
    from tasks.mail.ses import send

    def respond(effect: Any) -> Any:
        assert isinstance(effect, (Call, Record))
        return "SES-ID-1" if isinstance(effect, Call) else None

    result, seen = by_hand(plan_email({"payload": {"task": 2, **MAIL}}, FakeJob()), respond)
    (call,) = [e for e in seen if isinstance(e, Call)]  # a first run reads its ledger for free
    assert call.fn is send and call.args[1] is None  # Simple content: no raw message
    assert call.args[0].to == ["asha.k@patients.example"]
    assert records(seen) == [("email", "message", "SES-ID-1")]
    assert result == {"channel": "email", "message_id": "SES-ID-1", "recipients": 1, "attachments": 0}


def test_plan_email_attachments_and_the_mime_message_are_calls(settings: Any) -> None:
    from tasks.mail.attachments import load_attachments
    from tasks.mail.mime import build_raw

    content = base64.b64encode(b"%PDF-1.4 report").decode()
    payload = {"task": 2, **MAIL, "attachments": [{"filename": "r.pdf", "content_base64": content}]}
    loaded = [Attachment("r.pdf", "application/pdf", b"%PDF-1.4 report")]
    calls: list[Call] = []

    def respond(effect: Any) -> Any:
        if isinstance(effect, Call):
            calls.append(effect)
            if effect.fn is build_raw:  # up to tens of MB: built on a thread, off the loop
                return build_raw(*effect.args)
            return loaded if effect.fn is load_attachments else "SES-ID-2"
        return None

    result, seen = by_hand(plan_email({"payload": payload}, FakeJob()), respond)
    assert [c.fn.__name__ for c in calls] == ["load_attachments", "build_raw", "send"]
    raw = calls[2].args[1]
    assert isinstance(raw, bytes) and b'filename="r.pdf"' in raw and b"Subject: Report" in raw
    assert result["attachments"] == 1 and records(seen) == [("email", "message", "SES-ID-2")]


def test_plan_email_accepted_before_is_not_sent_again(settings: Any) -> None:
    job = FakeJob()
    job.ledger_fresh["email:message"] = "SES-OLD"  # this run's own record (or read from Redis)
    result, seen = by_hand(plan_email({"payload": {"task": 2, **MAIL}}, job), lambda effect: None)
    assert seen == [] and result["message_id"] == "SES-OLD"


def test_plan_email_ledger_read_from_redis_is_a_call(settings: Any) -> None:
    job = FakeJob()
    job.ledger_fresh = None  # type: ignore[assignment]  # run before: the ledger is in Redis
    plan = plan_email({"payload": {"task": 2, **MAIL}}, job)
    read = next(plan)
    assert isinstance(read, Call) and read.fn.__name__ == "accepted" and read.args == ("message",)
    try:
        plan.send("SES-OLD")
        raise AssertionError("the plan sent an e-mail SES had accepted")
    except StopIteration as stop:
        assert stop.value["message_id"] == "SES-OLD"


def test_plan_email_dry_run_has_no_effect(settings_factory: Any) -> None:
    settings_factory(DRY_RUN=True)
    result, seen = by_hand(plan_email({"payload": {"task": 2, **MAIL}}, FakeJob()), lambda effect: None)
    assert seen == [] and result == {"dry_run": "true", "channel": "email"}


@pytest.fixture(scope="module")
def fcm_account() -> dict[str, Any]:
    info, _ = service_account(GOOGLE_TOKEN_URI)
    return {"service_account": info, "project_id": PROJECT}


def fcm_session(config: dict[str, Any], settings: Any) -> fcm.Session:
    """What the plan's first Call would give: the client and an access token (no grant)."""
    app = fcm.app_for(config, settings)
    return fcm.Session(app, app.fcm_end_point, TokenCache("fcm", None), "ya29.first")


def push_task(platform: str, tokens: list[str], config: dict[str, Any]) -> dict[str, Any]:
    payload = {"task": 3, "platform": platform, "tokens": tokens, "title": "Report", "body": "Ready"}
    return {"payload": {**payload, "config": config}}


def test_plan_push_fcm_one_request_per_token_then_records(settings: Any, fcm_account: dict[str, Any]) -> None:
    session = fcm_session(fcm_account, settings)
    answers = {
        "tok-ok": answer(200, {"name": f"projects/{PROJECT}/messages/1"}),
        "tok-gone": answer(404, {"error": {"status": "NOT_FOUND", "details": [{"@type": fcm.fcm_errors.FCM_ERROR,
                                                                             "errorCode": "UNREGISTERED"}]}}),
    }  # fmt: skip

    def respond(effect: Any) -> Any:
        if isinstance(effect, Call):
            assert effect.fn is fcm.open_session and effect.args[0] == fcm_account
            return session
        if isinstance(effect, Request):
            return answers[json.loads(effect.body or b"")["message"]["token"]]
        return None

    result, seen = by_hand(plan_push(push_task("android", ["tok-ok", "tok-gone"], {"fcm": fcm_account}), FakeJob()),
                           respond)  # fmt: skip
    assert [len(e.plans) for e in seen if isinstance(e, sansio.Together)] == [2]  # both tokens at once
    requests = [e for e in seen if isinstance(e, Request)]
    assert [r.url for r in requests] == [f"{settings.FCM_ENDPOINT}/v1/projects/{PROJECT}/messages:send"] * 2
    assert {r.guarded for r in requests} == {False}  # FCM_ENDPOINT is a setting, as before
    assert {r.headers["Authorization"] for r in requests} == {"Bearer ya29.first"}
    assert json.loads(requests[0].body or b"")["message"]["android"] == {"priority": "high"}
    assert records(seen) == [("push", "tok-ok", f"projects/{PROJECT}/messages/1")]
    assert (result["sent"], result["invalid"], json.loads(result["invalid_tokens"])) == (1, 1, ["tok-gone"])


def test_plan_push_fcm_expired_access_token_is_renewed_by_a_call(settings: Any, fcm_account: dict[str, Any]) -> None:
    session = fcm_session(fcm_account, settings)
    plan = plan_push(push_task("android", ["tok-ok"], {"fcm": fcm_account}), None)
    assert isinstance(next(plan), Call)
    first = plan.send(session)
    assert isinstance(first, Request) and first.headers["Authorization"] == "Bearer ya29.first"
    renew = plan.send(
        answer(401, {"error": {"status": "UNAUTHENTICATED", "details": [{"reason": "ACCESS_TOKEN_EXPIRED"}]}})
    )
    assert isinstance(renew, Call) and renew.fn == session.app.renewed_token and renew.args[1] == "ya29.first"
    again = plan.send("ya29.second")
    assert isinstance(again, Request) and again.headers["Authorization"] == "Bearer ya29.second"
    result, seen = by_hand_from(plan, answer(200, {"name": "projects/p/messages/2"}))
    assert result["sent"] == 1
    assert [(r.item, r.ledger.active) for r in seen] == [("tok-ok", False)]  # outside a worker: a no-op record


def by_hand_from(plan: Plan[Any], result: Any) -> tuple[Any, list[Any]]:
    """Send ``result`` into a started plan and drive it to its end, answering None."""
    seen: list[Any] = []
    try:
        effect = plan.send(result)
        while True:
            seen.append(effect)
            effect = plan.send(None)
    except StopIteration as stop:
        return stop.value, seen


@pytest.mark.parametrize(
    "failure, reason",
    [
        (errors.DeliveryTimeout("FCM: timed out (ReadTimeoutError)"), "FCM: timed out"),
        (errors.ProviderUnavailable("FCM: connection failed (NewConnectionError)"), "FCM: connection failed"),
        (errors.ProviderRejected("FCM: TLS certificate verification failed"), "FCM: TLS certificate"),
    ],
)
def test_plan_push_fcm_transport_failure_is_a_retryable_token(
    settings: Any, fcm_account: dict[str, Any], failure: Exception, reason: str
) -> None:
    plan = plan_push(push_task("android", ["tok-ok"], {"fcm": fcm_account}), None)
    next(plan)
    assert isinstance(plan.send(fcm_session(fcm_account, settings)), Request)
    with pytest.raises(errors.ProviderUnavailable) as info:  # as with requests: retryable, never permanent
        plan.throw(failure)
    assert f"first reason: {reason}" in str(info.value) and "tok-ok" not in str(info.value)


def test_plan_push_apns_one_call_for_the_batch_and_replies_read_in_the_plan(settings: Any, tmp_path: Path) -> None:
    key = tmp_path / "AuthKey.p8"
    key.write_text("never read here: the provider token is a Call")
    config = {"team_id": "TEAM123456", "key_id": "KEY1234567", "key": str(key), "topic": "com.lab.app"}
    tokens = ["a1" * 32, "b2" * 32, "c3" * 32]
    replies = [
        Reply(200, apns_id="apns-1"),
        Reply(403, "ExpiredProviderToken", jwt="JWT-1"),
        Reply(410, "Unregistered"),
    ]

    def respond(effect: Any) -> Any:
        if isinstance(effect, Call) and effect.fn is apns.auth_headers:
            return {"authorization": "bearer JWT-1"}
        if isinstance(effect, Call) and effect.fn is apns.send_all:
            return replies
        return None

    result, seen = by_hand(plan_push(push_task("ios", tokens, {"apns": config}), FakeJob()), respond)
    calls = [e for e in seen if isinstance(e, Call)]
    assert [c.fn.__name__ for c in calls] == ["auth_headers", "send_all", "forget_jwt"]
    app, sent_to, body, headers = calls[1].args
    assert sent_to == tokens and headers["authorization"] == "bearer JWT-1" and headers["apns-topic"] == "com.lab.app"
    assert json.loads(body)["aps"]["alert"] == {"title": "Report", "body": "Ready"}
    assert calls[2].args[:2] == (app, "JWT-1")  # the expired JWT dropped once, by a Call
    assert records(seen) == [("push", tokens[0], "apns-1")]
    rows = {row["token"]: row for row in json.loads(result["results"])}
    assert rows[tokens[1]] == {"token": tokens[1], "status": "failed", "reason": "APNs 403 ExpiredProviderToken",
                               "retryable": True}  # fmt: skip
    assert json.loads(result["invalid_tokens"]) == [tokens[2]]


def test_plan_push_skips_tokens_the_ledger_holds(settings: Any, fcm_account: dict[str, Any]) -> None:
    job = FakeJob()
    job.ledger_fresh["push:tok-done"] = "projects/p/messages/0"
    plan = plan_push(push_task("android", ["tok-done", "tok-new"], {"fcm": fcm_account}), job)
    assert isinstance(next(plan), Call)
    request = plan.send(fcm_session(fcm_account, settings))
    assert isinstance(request, Request) and json.loads(request.body or b"")["message"]["token"] == "tok-new"
    result, seen = by_hand_from(plan, answer(200, {"name": "projects/p/messages/1"}))
    assert records(seen) == [("push", "tok-new", "projects/p/messages/1")] and result["sent"] == 2
