"""tasks.webhooks.send_webhook: the request it makes, and how each answer is classified."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from errors import DeliveryTimeout, InvalidPayload, NotWhitelisted, ProviderRejected, ProviderUnavailable, RateLimited
from rq_ext import contract, enqueue
from rq_ext.classify import classify
from tasks.webhooks import secret_key, send_webhook, url_for_log


def task(url: str, **extra) -> dict:
    return {"payload": {"task": 4, "url": url, **extra}}


def test_post_json_with_headers(settings, httpserver):
    httpserver.expect_request("/h", method="POST", headers={"X-Lab": "7"}, json={"report": 1}).respond_with_data("")
    result = send_webhook(task(httpserver.url_for("/h"), headers={"X-Lab": "7"}, json={"report": 1}))
    assert result["status_code"] == 200


def test_raw_body_and_method(settings, httpserver):
    httpserver.expect_request("/h", method="PUT", data=b"plain text").respond_with_data("", status=204)
    assert send_webhook(task(httpserver.url_for("/h"), method="PUT", body="plain text"))["status_code"] == 204


@pytest.mark.parametrize(
    "status, error",
    [
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (429, RateLimited),
        (400, ProviderRejected),
        (404, ProviderRejected),
        (410, ProviderRejected),
        (302, ProviderRejected),
    ],
)
def test_status_classification(settings, httpserver, status, error):
    headers = {"Location": "http://127.0.0.1:1/elsewhere"} if status == 302 else {}
    httpserver.expect_request("/h").respond_with_response(Response("x", status=status, headers=headers))
    with pytest.raises(error) as info:
        send_webhook(task(httpserver.url_for("/h")))
    assert classify(info.value).retryable == (status >= 500 or status == 429)


def test_redirect_not_followed(settings, httpserver):
    httpserver.expect_request("/h").respond_with_response(Response("", status=301, headers={"Location": "/other"}))
    with pytest.raises(ProviderRejected, match="redirect"):
        send_webhook(task(httpserver.url_for("/h")))
    assert [r.path for r, _ in httpserver.log] == ["/h"]


def test_retry_after_is_read(settings, httpserver):
    httpserver.expect_request("/h").respond_with_response(Response("", status=429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as info:
        send_webhook(task(httpserver.url_for("/h")))
    assert info.value.retry_after == 30


def test_timeout_is_retryable(settings, httpserver):
    import time

    httpserver.expect_request("/slow").respond_with_handler(lambda r: (time.sleep(1.5), Response("late"))[1])
    with pytest.raises(DeliveryTimeout) as info:
        send_webhook(task(httpserver.url_for("/slow"), timeout=0.3))
    assert classify(info.value).retryable
    assert str(info.value).startswith("webhook: timed out (")  # the channel named in the reason


def test_connection_refused_is_retryable(settings):
    with pytest.raises(ProviderUnavailable) as info:
        send_webhook(task("http://127.0.0.1:9/nothing"))
    assert classify(info.value).retryable
    assert str(info.value).startswith("webhook: connection failed (")


def test_url_off_whitelist_fails_without_request(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "webhook",
        "tasks.dispatch",
        task("https://evil.example.net/x"),
        connection=conn,
        job_id="w1",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["webhook"])
    (callback,) = [r for r, _ in httpserver.log if r.path == "/failed"]
    assert [r.path for r, _ in httpserver.log if r.path != "/failed" and r.path != "/slow"] == []
    assert "whitelist" in callback.form["failure_trace"]
    assert conn.zscore("rq:failed:webhook", "w1") is not None
    with pytest.raises(NotWhitelisted):
        send_webhook(task("https://evil.example.net/x"))


def test_staging_url_is_never_retried(conn, settings_factory, run_worker, httpserver):
    settings_factory(WEBHOOK_WHITELIST=r"^http://(127\.0\.0\.1|localhost)")
    httpserver.expect_request("/staging/hook").respond_with_data("down", status=503)
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        task(httpserver.url_for("/staging/hook")),
        connection=conn,
        job_id="st",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["webhook"])
    assert conn.hget(contract.job_key("st"), "retryCount") == b"10"
    assert conn.zscore("rq:failed:webhook", "st") is not None
    assert conn.zscore(contract.SCHEDULER_SET, "st") is None


def test_dry_run_sends_nothing(settings_factory, httpserver):
    settings_factory(DRY_RUN=True)
    assert send_webhook(task(httpserver.url_for("/h")))["dry_run"] == "true"
    assert httpserver.log == []


def test_dispatch_routes_webhooks(settings, httpserver):
    from tasks import dispatch

    httpserver.expect_request("/d").respond_with_json({})
    assert dispatch(task(httpserver.url_for("/d"), json=json.loads("[1, 2]")))["status_code"] == 200


@pytest.fixture
def run_worker(run_each_worker):
    """Every test here runs with the in-process class (rq's bookkeeping) and the concurrent
    class (the lean path)."""
    return run_each_worker


def test_request_head_and_body_leave_in_one_segment(settings, httpserver, monkeypatch):
    """The pinned client writes a small request whole: one write, one provider wake-up."""
    import http.client

    from wrappers import pinned

    writes: list[bytes] = []
    original = http.client.HTTPConnection.send

    def send(self, data):
        writes.append(bytes(data))
        return original(self, data)

    monkeypatch.setattr(http.client.HTTPConnection, "send", send)
    httpserver.expect_request("/hook", method="POST", data=b'{"report":"ready"}').respond_with_data("ok")
    response = pinned.request(
        "POST", httpserver.url_for("/hook"), what="webhook", timeout=5, data=b'{"report":"ready"}'
    )
    assert pinned.read_capped(response, 100, "webhook") == (b"ok", False)
    assert len(writes) == 1 and writes[0].startswith(b"POST /hook HTTP/1.1\r\n")
    assert writes[0].endswith(b'\r\n\r\n{"report":"ready"}')


# -- found by the mutation run (docs/reliability.md, "Mutation testing") ---------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com:8443/services/T0/B0/s3cr3t?token=abc", "https://hooks.example.com:8443/…"),
        ("http://hooks.example.com/path?key=k", "http://hooks.example.com/…"),
        ("mailto:someone", "mailto:///…"),
        ("http://[::1/broken", "(invalid URL)"),
    ],
)
def test_url_for_log_shows_scheme_host_and_port_only(url: str, shown: str) -> None:
    assert url_for_log(url) == shown


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("key_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "payload.secret must start with 'whsec_'"),
        ("whsec_not base64!", "payload.secret is not valid base64 after 'whsec_'"),
        ("whsec_MfKQ9r8GKYqrTwjU*PD8ILPZIo2LaLaSw", "payload.secret is not valid base64 after 'whsec_'"),
    ],
)
def test_a_secret_that_is_not_whsec_base64_is_refused_not_used(secret: str, reason: str) -> None:
    """A key with stray characters is refused; a lenient decoder would sign with another key."""
    with pytest.raises(InvalidPayload) as refused:
        secret_key(secret)
    assert str(refused.value) == reason


def test_410_gone_says_the_endpoint_no_longer_exists(settings, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    with pytest.raises(ProviderRejected) as info:
        send_webhook(task(httpserver.url_for("/gone")))
    assert str(info.value) == "webhook: HTTP 410 Gone (the endpoint no longer exists)"


def test_a_delivery_returns_its_fields_and_logs_one_masked_line(settings, httpserver, caplog):
    httpserver.expect_request("/h/s3cr3t-path").respond_with_data("ok", status=202)
    with caplog.at_level("INFO", logger="tasks.webhooks"):
        result = send_webhook(task(httpserver.url_for("/h/s3cr3t-path"), method="PUT", body="x"))
    assert result == {"channel": "webhook", "status_code": 202}
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tasks.webhooks"]
    assert line == f"webhook delivered: PUT http://localhost:{httpserver.port}/… -> HTTP 202"


def test_a_server_error_names_the_channel(settings, httpserver):
    httpserver.expect_request("/e").respond_with_data("", status=502)
    with pytest.raises(ProviderUnavailable) as info:
        send_webhook(task(httpserver.url_for("/e")))
    assert str(info.value) == "webhook: HTTP 502 BAD GATEWAY"


def test_json_and_body_together_are_refused(settings, httpserver):
    with pytest.raises(InvalidPayload) as info:
        send_webhook(task(httpserver.url_for("/x"), json={"a": 1}, body="b"))
    assert str(info.value) == "payload has both 'json' and 'body'"
    assert httpserver.log == []
