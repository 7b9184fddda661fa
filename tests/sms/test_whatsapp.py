"""WhatsApp providers against a real HTTP server; the payload checks; fallback; the worker."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

import errors
from rq_ext import enqueue
from tasks.whatsapp import send_whatsapp
from tasks.whatsapp_providers.registry import PROVIDERS_BY_NAME
from tests.sms.cases_whatsapp import CASES, E164, META, META_OK, PLAIN_TEMPLATE, TEMPLATE, WaCase
from tests.sms.harness import blackhole, only_request, respond, single
from tests.sms.test_worker import calls, form


def task(case: WaCase, base_url: str) -> dict:
    payload = {"task": 5, "gateway": case.provider, "config": {**case.config, "base_url": base_url}, "to": E164}
    return {"payload": {**payload, **case.message}, "reference": "ref-1"}


def send(case: WaCase, httpserver) -> dict:
    return send_whatsapp(task(case, httpserver.url_for("/").rstrip("/")))


def ids(case: WaCase) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_request_and_success(case: WaCase, httpserver, settings) -> None:
    respond(httpserver, case.ok, case.ok_status)
    result = send(case, httpserver)
    request = only_request(httpserver)
    assert (request.method, request.path, single(request.args)) == ("POST", case.path, case.query)
    if case.json is not None:
        assert json.loads(request.get_data()) == case.json
    if case.form is not None:
        assert single(request.form) == case.form
    for name, value in case.headers.items():
        assert request.headers.get(name) == value
    if case.basic:
        assert (request.authorization.username, request.authorization.password) == case.basic
    assert (result["provider_message_id"], result["gateway"], result["channel"]) == (
        case.message_id,
        case.provider,
        "whatsapp",
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.refusal is not None], ids=ids)
def test_error_reported_in_a_200(case: WaCase, httpserver, settings) -> None:
    respond(httpserver, case.refusal, 200)
    with pytest.raises(getattr(errors, case.refusal_error)):
        send(case, httpserver)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_4xx_5xx_and_timeout(case: WaCase, httpserver, settings_factory) -> None:
    settings_factory(PROVIDER_TIMEOUT=0.2)
    respond(httpserver, {"error": {"message": "Invalid OAuth access token", "code": 190}}, 401)
    with pytest.raises(errors.ProviderRejected, match="Invalid OAuth access token"):
        send(case, httpserver)
    httpserver.clear()
    respond(httpserver, "bad gateway", 502)
    with pytest.raises(errors.ProviderUnavailable):
        send(case, httpserver)
    with blackhole() as url, pytest.raises(errors.DeliveryTimeout):
        send_whatsapp(task(case, url))


def test_every_provider_has_a_row() -> None:
    assert {c.provider for c in CASES} == set(PROVIDERS_BY_NAME)
    assert len(PROVIDERS_BY_NAME) >= 8


def test_meta_graph_api_version_is_a_config_key(httpserver, settings) -> None:
    """``api_version`` picks the Graph API version in the path; unset or empty, the default (v21.0)."""
    for version, path in (("v23.0", "/v23.0/1055/messages"), ("", "/v21.0/1055/messages")):
        httpserver.clear()
        respond(httpserver, META_OK)
        case = replace(CASES[0], config={**META, "api_version": version})
        assert send(case, httpserver)["provider_message_id"] == "wamid.HBgM"
        assert only_request(httpserver).path == path


def test_meta_rate_limit_code_is_retryable(httpserver, settings) -> None:
    respond(httpserver, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, 400)
    with pytest.raises(errors.RateLimited):
        send(CASES[0], httpserver)


@pytest.mark.parametrize(
    ("payload", "error", "reason"),
    [
        ({"text": "a", "template": TEMPLATE}, errors.InvalidPayload, "exactly one"),
        ({}, errors.InvalidPayload, "exactly one"),
        ({"template": {**PLAIN_TEMPLATE, "params": ["Asha", ""]}}, errors.InvalidPayload, "params"),
        (
            {"template": {**TEMPLATE, "header_document": {"url": "ftp://x/r.pdf", "filename": "r.pdf"}}},
            errors.InvalidPayload,
            "http",
        ),
        ({"document": {"url": "https://files.example/r.pdf"}}, errors.InvalidPayload, "filename"),
        ({"gateway": "nosuch", "text": "a"}, errors.ConfigurationError, "unknown WhatsApp provider"),
        (
            {"gateway": "wati", "config": {"api_token": "t", "base_url": "http://x"}, "text": "a"},
            errors.InvalidPayload,
            "cannot send a text",
        ),
        ({"config": {"phone_number_id": "1"}, "text": "a"}, errors.ConfigurationError, "access_token"),
        ({"to": "12345", "text": "a"}, errors.InvalidRecipient, "invalid phone number"),
    ],
)
def test_bad_payloads_fail_before_any_request(httpserver, settings, payload, error, reason) -> None:
    base = {"task": 5, "gateway": "meta", "config": {**META, "base_url": httpserver.url_for("/")}, "to": E164}
    with pytest.raises(error, match=reason):
        send_whatsapp({"payload": {**base, **payload}})
    assert httpserver.log == []


def test_twilio_refuses_a_header_document_in_the_payload(settings) -> None:
    payload = {
        "task": 5,
        "gateway": "twilio",
        "config": {"account_sid": "AC1", "auth_token": "t"},
        "to": E164,
        "template": TEMPLATE,
    }
    with pytest.raises(errors.InvalidPayload, match="Content template"):
        send_whatsapp({"payload": payload})


def test_fallback_to_a_second_provider(httpserver, settings) -> None:
    httpserver.expect_request("/meta/v21.0/1055/messages").respond_with_data("down", status=503)
    httpserver.expect_request("/d360/messages").respond_with_json(META_OK)
    payload = {
        "task": 5,
        "gateway": "meta",
        "config": {**META, "base_url": httpserver.url_for("/meta")},
        "to": E164,
        "template": TEMPLATE,
        "fallback": [{"gateway": "dialog360", "config": {"api_key": "k", "base_url": httpserver.url_for("/d360")}}],
    }
    result = send_whatsapp({"payload": payload})
    assert (result["gateway"], result["provider_message_id"]) == ("dialog360", "wamid.HBgM")


def test_through_the_worker_with_an_account(conn, settings_factory, run_worker, httpserver) -> None:
    settings_factory(WHATSAPP_ACCOUNTS={"lab": {"gateway": "meta", **META, "base_url": httpserver.url_for("/")}})
    httpserver.expect_request(re.compile("/v21.0/1055/messages")).respond_with_json(META_OK)
    httpserver.expect_request("/done").respond_with_data("ok")
    task = {
        "payload": {"task": 5, "account": "lab", "to": ["+919876543210", "+919123456780"], "template": TEMPLATE},
        "reference": "R-9",
    }
    enqueue(
        "whatsapp",
        "tasks.whatsapp.send_whatsapp",
        task,
        connection=conn,
        job_id="wa-1",
        success_task_handler=httpserver.url_for("/done"),
    )
    run_worker(["whatsapp"])
    fields = form(calls(httpserver, "/done")[0])
    assert (fields["provider_message_id"], fields["gateway"], fields["recipients"]) == ("wamid.HBgM", "meta", "2")
    assert (fields["message_type"], fields["reference"]) == ("template", "R-9")
    assert len(calls(httpserver, "/v21.0/1055/messages")) == 2
    assert conn.hlen("fusion:delivered:wa-1") == 2


def test_dry_run(httpserver, settings_factory) -> None:
    settings_factory(DRY_RUN=True)
    payload = {"task": 5, "gateway": "meta", "config": META, "to": E164, "text": "hello"}
    assert send_whatsapp({"payload": payload})["dry_run"] == "true"
