"""The SMS and WhatsApp channels as plans (:mod:`rq_ext.sansio`), driven by hand: no socket is
opened; every Request is answered (or failed) by the test, and every effect is looked at."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from requests.structures import CaseInsensitiveDict

import errors
from rq_ext.sansio import Call, Plan, Record
from tasks.gateways.breaker import Breaker, Ticket
from tasks.sms import plan_sms
from tasks.whatsapp import plan_whatsapp
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


def until_request(plan: Plan[Any], effect: Any, seen: list[Any], ticket: Ticket | None = None) -> Any:
    """Answer every effect up to the next Request (or the end) as the driver would: a breaker's
    admission gets ``ticket`` (a closed breaker's by default), other Calls and Records nothing.
    The Request, or StopIteration."""
    while not isinstance(effect, Request):
        seen.append(effect)
        admitted = isinstance(effect, Call) and effect.fn.__name__ == "admit"
        result = (ticket or Ticket()) if admitted else None
        effect = plan.send(result)
    return effect


def breaker_steps(seen: list[Any]) -> list[tuple[str, str]]:
    """(step, account) of each breaker Call among the effects."""
    owners = [(e.fn.__name__, getattr(e.fn, "__self__", None)) for e in seen if isinstance(e, Call)]
    return [(name, owner.name) for name, owner in owners if isinstance(owner, Breaker)]


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
    assert isinstance(admit, Call) and admit.fn.__name__ == "admit"
    probe = Ticket(probe=True)
    assert isinstance(plan.send(probe), Request)
    plan.close()  # the driver gave up on the job (a cancelled task): no effect can follow
    assert released == [probe]
