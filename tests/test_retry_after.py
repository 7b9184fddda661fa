"""``Retry-After`` in any form never turns a retryable answer permanent, and bounds the retry delay
(capped by ``RETRY_AFTER_MAX``): a real local HTTP server answers 503/429, through the webhook
channel, an SMS gateway and a worker."""

from __future__ import annotations

import email.utils
import time

import pytest
from werkzeug import Response

from errors import ProviderUnavailable, RateLimited
from rq_ext import contract, enqueue
from rq_ext.classify import classify
from rq_ext.retry import backoff
from tasks.sms import send_sms
from tasks.webhooks import send_webhook
from wrappers.http import parse_retry_after

CAP = 600.0


def http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


#: (header value, expected seconds: a number, ("about", n) for dates, or None when ignored)
FORMS = [
    ("120", 120.0),
    ("1.5", 1.5),
    (" 7 ", 7.0),
    ("0", 0.0),
    ("-5", 0.0),
    ("99999999999", CAP),
    ("1e400", None),  # inf: ignored
    ("nan", None),
    ("soon", None),
    ("", None),
    ("Wed, 99 Foo 2026 99:99:99 GMT", None),
    ("date:" + "x" * 300, None),
    ("past-date", 0.0),
    ("future-date", ("about", 90.0)),
    ("far-future-date", CAP),
]


def header_value(form: str) -> str:
    return {
        "past-date": http_date(-3600),
        "future-date": http_date(90),
        "far-future-date": http_date(10 * 365 * 86400),
    }.get(form, form)


def check_seconds(actual: float | None, expected: object) -> None:
    if isinstance(expected, tuple):
        assert actual is not None and abs(actual - expected[1]) < 3
    else:
        assert actual == expected


def webhook_task(url: str) -> dict:
    return {"payload": {"task": 4, "url": url, "json": {"event": "x"}}}


def sms_task(url: str) -> dict:
    config = {"url": url, "message_param": "text", "receiver_param": "to", "success_regex": "^OK"}
    return {"payload": {"task": 1, "gateway": "http", "config": config, "to": "+919876543210", "message": "hi"}}


@pytest.mark.parametrize("value", ["1.5", "-1", "abc", "Mon, 32 Foo 2026 25:61:00 GMT", "1" * 400, "\x00"])
def test_parser_never_raises(value):
    result = parse_retry_after(value)
    assert result is None or result >= 0


@pytest.mark.parametrize("status, error", [(503, ProviderUnavailable), (429, RateLimited)])
@pytest.mark.parametrize("form, expected", FORMS)
def test_webhook_answer_stays_retryable(settings_factory, httpserver, status, error, form, expected):
    settings_factory(RETRY_AFTER_MAX=CAP)
    headers = {"Retry-After": header_value(form)}
    httpserver.expect_request("/hook").respond_with_response(Response("busy", status=status, headers=headers))
    with pytest.raises(error) as info:
        send_webhook(webhook_task(httpserver.url_for("/hook")))
    failure = classify(info.value)
    assert failure.retryable, failure
    check_seconds(failure.retry_after, expected)


@pytest.mark.parametrize("status, error", [(503, ProviderUnavailable), (429, RateLimited)])
@pytest.mark.parametrize(
    "form, expected", [f for f in FORMS if f[0] in ("1.5", "soon", "-5", "99999999999", "future-date")]
)
def test_sms_gateway_answer_stays_retryable(settings_factory, httpserver, status, error, form, expected):
    settings_factory(RETRY_AFTER_MAX=CAP)
    headers = {"Retry-After": header_value(form)}
    httpserver.expect_request("/send").respond_with_response(Response("busy", status=status, headers=headers))
    with pytest.raises(error) as info:
        send_sms(sms_task(httpserver.url_for("/send")))
    failure = classify(info.value)
    assert failure.retryable, failure
    check_seconds(failure.retry_after, expected)


def test_delay_is_bounded_by_the_cap(settings_factory):
    settings = settings_factory(RETRY_AFTER_MAX=CAP, RETRY_BACKOFF_MAX=60.0)
    assert backoff(settings, 1, CAP) <= max(CAP, settings.RETRY_BACKOFF_MAX * 1.5)


def test_retry_after_max_zero_ignores_the_header(settings_factory, httpserver):
    settings_factory(RETRY_AFTER_MAX=0.0)
    headers = {"Retry-After": "3600"}
    httpserver.expect_request("/hook").respond_with_response(Response("", status=503, headers=headers))
    with pytest.raises(ProviderUnavailable) as info:
        send_webhook(webhook_task(httpserver.url_for("/hook")))
    assert classify(info.value).retry_after == 0.0


@pytest.mark.parametrize("form", ["1.5", "garbage", "-3", "99999999999"])
def test_worker_schedules_a_retry_not_a_failure(conn, settings_factory, run_worker, httpserver, form):
    """A worker given a 503 with an odd Retry-After schedules a local retry within the cap."""
    settings_factory(RETRY_AFTER_MAX=CAP, FUSION_SERVER="")
    headers = {"Retry-After": form}
    httpserver.expect_request("/hook").respond_with_response(Response("", status=503, headers=headers))
    job = enqueue("webhook", "tasks.dispatch", webhook_task(httpserver.url_for("/hook")), connection=conn)
    before = time.time()
    run_worker(["webhook"])
    assert conn.zscore("rq:failed:webhook", job.id) is None
    due = conn.zscore(contract.SCHEDULER_SET, job.id)
    assert due is not None, conn.hgetall(job.key)
    assert before <= due <= time.time() + CAP + 1
