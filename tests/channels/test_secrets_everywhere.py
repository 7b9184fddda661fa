"""Every channel in one run, successes and failures: no credential, token, phone number, e-mail
address or message body in the logs, the Sentry events, the callbacks' failure traces, or the
``info`` output."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from werkzeug import Request, Response

from rq_ext import enqueue
from rq_ext.stats import render, snapshot
from tests.channels.test_log_leaks import SECRETS, arrange, captured, jobs  # noqa: F401  (fixture re-used)

PHONE, PHONE_DIGITS = "+919811122233", "9811122233"
MORE_SECRETS = {
    "sms text": "SMS-BODY-SECRET-HbA1c",
    "twilio token": "TWILIO-AUTH-TOKEN-SECRET",
    "whatsapp text": "WA-BODY-SECRET",
    "meta token": "META-ACCESS-TOKEN-SECRET",
    "phone": PHONE,
    "phone digits": PHONE_DIGITS,
}


def channel_jobs(httpserver: Any) -> list[tuple[str, str, dict]]:
    twilio = {
        "account_sid": "AC9",
        "auth_token": "TWILIO-AUTH-TOKEN-SECRET",
        "sender": "+15005550006",
        "base_url": httpserver.url_for(""),
    }
    meta = {"phone_number_id": "1055", "access_token": "META-ACCESS-TOKEN-SECRET", "base_url": httpserver.url_for("")}
    sms = {"task": 1, "gateway": "twilio", "config": twilio, "to": PHONE, "message": "SMS-BODY-SECRET-HbA1c"}
    wa = {"task": 5, "gateway": "meta", "config": meta, "to": PHONE, "text": "WA-BODY-SECRET"}
    return [
        ("sms", "tasks.sms.send_sms", {"payload": sms}),
        ("sms", "tasks.sms.send_sms", {"payload": {**sms, "to": "+91123"}}),  # invalid number: fails
        ("sms", "tasks.sms.send_sms", {"payload": {**sms, "config": {**twilio, "account_sid": "BAD"}}}),  # 401
        ("whatsapp", "tasks.whatsapp.send_whatsapp", {"payload": wa}),
        ("whatsapp", "tasks.whatsapp.send_whatsapp", {"payload": {**wa, "gateway": "no-such"}}),
    ]


@pytest.fixture
def sentry_envelopes(httpserver):
    import sentry_sdk

    from wrappers import sentry

    envelopes: list[str] = []

    def collect(request: Request) -> Response:
        body = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        envelopes.append(body.decode("utf-8", "replace"))
        return Response("{}")

    httpserver.expect_request("/api/1/envelope/").respond_with_handler(collect)
    sentry.init(f"http://public@127.0.0.1:{httpserver.port}/1", "test")
    yield envelopes
    sentry.flush()
    sentry_sdk.init()  # no DSN: off again
    sentry._enabled = False


def test_no_secret_anywhere(
    conn,
    settings_factory,
    aws,
    fcm,
    apns_token,
    run_worker,
    httpserver,
    captured,  # noqa: F811
    sentry_envelopes,
):
    _, apns_config, fcm_config = arrange(settings_factory, aws, fcm, apns_token, httpserver)
    httpserver.expect_request("/2010-04-01/Accounts/AC9/Messages.json").respond_with_json(
        {"status": "queued", "sid": "SM1"}, status=201
    )
    httpserver.expect_request("/2010-04-01/Accounts/BAD/Messages.json").respond_with_json(
        {"code": 20003, "message": "Authenticate with TWILIO-AUTH-TOKEN-SECRET failed for +919811122233"}, status=401
    )
    httpserver.expect_request("/v21.0/1055/messages").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.1"}]}
    )
    httpserver.expect_request("/done").respond_with_data("ok")
    httpserver.expect_request("/failed").respond_with_data("ok")
    for queue, function, task in [*jobs(httpserver, fcm_config, apns_config), *channel_jobs(httpserver)]:
        enqueue(
            queue,
            function,
            task,
            connection=conn,
            success_task_handler=httpserver.url_for("/done"),
            failed_task_handler=httpserver.url_for("/failed"),
        )
    run_worker(["sms", "email", "pn", "webhook", "whatsapp"])
    from wrappers import sentry

    sentry.flush()

    traces = [r.form.get("failure_trace", "") for r, _ in httpserver.log if r.path == "/failed"]
    assert len(traces) == 4  # invalid number, twilio 401, unknown whatsapp gateway, webhook 400
    surfaces = {
        "logs": captured.stream.getvalue(),
        "sentry": "\n".join(sentry_envelopes),
        "failure traces": "\n".join(traces),
        "info": render(snapshot(conn)) + json.dumps(snapshot(conn)),
    }
    assert sentry_envelopes, "the permanent failures reach Sentry"
    everything = {**SECRETS, **MORE_SECRETS}
    leaks = {
        (surface, name) for surface, text in surfaces.items() for name, value in everything.items() if value in text
    }
    assert leaks == set(), f"unmasked: {sorted(leaks)}"
