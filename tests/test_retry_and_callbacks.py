"""Retries through /retryTask/ and the local fallback; success and failure callbacks."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
from rq.job import Job
from werkzeug import Request, Response

from rq_ext import contract, enqueue, outbox
from rq_ext.sender import Sender, Unanswered, Undeliverable, post
from tests.conftest import wait_for


def form(request) -> dict[str, str]:
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.get_data(as_text=True), keep_blank_values=True).items()}


def requests_to(httpserver, path: str) -> list:
    return [req for req, _ in httpserver.log if req.path == path]


def webhook_task(httpserver, path: str = "/hook", **extra) -> dict:
    return {"payload": {"task": 4, "url": httpserver.url_for(path), "json": {"a": 1}, **extra}}


def test_success_callback_fields(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/done", method="POST").respond_with_data("ok")
    enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        webhook_task(httpserver),
        connection=conn,
        success_task_handler=httpserver.url_for("/done"),
        job_id="job-ok",
    )
    run_worker(["webhook"])
    (callback,) = requests_to(httpserver, "/done")
    fields = form(callback)
    assert fields["job_id"] == "job-ok"
    assert fields["status"] == "finished"
    assert fields["retry_attempts"] == "0"
    # the function and the channel, never the call's arguments (rq's description is the call)
    assert fields["description"] == "tasks.webhooks.send_webhook(channel=webhook)"
    assert callback.headers["Idempotency-Key"] == "job-ok:finished:0"
    assert fields["status_code"] == "200"
    assert Job.fetch("job-ok", connection=conn).get_status() == "finished"


def test_success_callback_carries_channel_details(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/done").respond_with_data("ok")
    enqueue(
        "sms", "tests.jobs.record", {"name": "x"}, connection=conn, success_task_handler=httpserver.url_for("/done")
    )
    run_worker(["sms"])
    fields = form(requests_to(httpserver, "/done")[0])
    assert fields["provider_id"] == "msg-x"


def test_retryable_failure_posts_args_to_retry_task(conn, settings_factory, run_worker, httpserver):
    settings_factory(FUSION_SERVER=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_request("/retryTask/", method="POST").respond_with_data("queued")
    httpserver.expect_request("/failed").respond_with_data("ok")
    task = webhook_task(httpserver)
    enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        task,
        connection=conn,
        job_id="job-r",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["webhook"])
    (retry_request,) = requests_to(httpserver, "/retryTask/")
    assert retry_request.headers["Content-Type"] == "application/json"
    assert json.loads(retry_request.get_data()) == [task]
    raw = conn.hgetall(contract.job_key("job-r"))
    assert raw[b"retryCount"] == b"1"
    assert raw[b"status"] == b"scheduled"
    assert conn.zcard("rq:failed:webhook") == 0
    assert requests_to(httpserver, "/failed") == []
    assert conn.zscore(contract.SCHEDULER_SET, "job-r") is None
    assert conn.zscore(contract.CLAIMS, "job-r") is None


def test_server_re_enqueues_same_id_and_retry_count_shows(conn, settings_factory, run_worker, httpserver):
    settings_factory(FUSION_SERVER=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_oneshot_request("/hook").respond_with_data("busy", status=502)
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/retryTask/").respond_with_data("queued")
    httpserver.expect_request("/done").respond_with_data("ok")
    enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        webhook_task(httpserver),
        connection=conn,
        job_id="job-2",
        success_task_handler=httpserver.url_for("/done"),
    )
    run_worker(["webhook"])
    conn.zadd("rq:queue:webhook", {"job-2": 0})  # what the server does after /retryTask/
    run_worker(["webhook"])
    fields = form(requests_to(httpserver, "/done")[0])
    assert fields["retry_attempts"] == "1"
    assert conn.zscore(contract.AWAITING_RETRY, "job-2") is None


def test_local_fallback_when_no_server(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/hook").respond_with_data("slow down", status=429)
    enqueue("webhook", "tasks.webhooks.send_webhook", webhook_task(httpserver), connection=conn, job_id="job-l")
    before = time.time()
    run_worker(["webhook"])
    due = conn.zscore(contract.SCHEDULER_SET, "job-l")
    assert due is not None and due > before
    assert conn.hget(contract.job_key("job-l"), "retryCount") == b"1"
    assert conn.zcard("rq:failed:webhook") == 0


def test_local_fallback_when_server_fails(conn, settings_factory, run_worker, httpserver):
    settings_factory(FUSION_SERVER=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request("/retryTask/").respond_with_data("down", status=500)
    enqueue("sms", "tests.jobs.transient", {}, connection=conn, job_id="job-f")
    run_worker(["sms"])
    assert len(requests_to(httpserver, "/retryTask/")) == 1
    assert conn.zscore(contract.SCHEDULER_SET, "job-f") is not None


def test_locally_scheduled_retry_runs_again_when_due(conn, settings, run_worker, httpserver):
    httpserver.expect_oneshot_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_request("/hook").respond_with_data("ok")
    enqueue(
        "webhook", "tasks.webhooks.send_webhook", webhook_task(httpserver), connection=conn, job_id="job-x", priority=4
    )
    run_worker(["webhook"])
    conn.zadd(contract.SCHEDULER_SET, {"job-x": time.time() - 1})
    run_worker(["webhook"])
    assert Job.fetch("job-x", connection=conn).get_status() == "finished"


def test_exhausted_retries_fail_with_callback(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "sms",
        "tests.jobs.transient",
        {},
        connection=conn,
        job_id="job-e",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    conn.hset(contract.job_key("job-e"), "retryCount", 10)
    run_worker(["sms"])
    fields = form(requests_to(httpserver, "/failed")[0])
    assert set(fields) == {"description", "failure_trace", "job_id", "status"}
    assert fields["status"] == "failed" and fields["job_id"] == "job-e"
    assert "retries exhausted" in fields["failure_trace"]
    assert "ProviderUnavailable" in fields["failure_trace"]
    assert conn.zscore("rq:failed:sms", "job-e") is not None
    assert conn.zscore(contract.SCHEDULER_SET, "job-e") is None


def test_permanent_failure_goes_to_failed_registry_with_callback(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "sms",
        "tests.jobs.crash",
        {},
        connection=conn,
        job_id="job-p",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["sms"])
    fields = form(requests_to(httpserver, "/failed")[0])
    assert "RuntimeError: unexpected failure" in fields["failure_trace"]
    assert "Traceback" in fields["failure_trace"]
    assert conn.zscore("rq:failed:sms", "job-p") is not None
    assert conn.hget(contract.job_key("job-p"), "retryCount") == b"0"


def test_failing_callback_is_retried_and_never_changes_outcome(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/done").respond_with_data("nope", status=500)
    enqueue(
        "sms",
        "tests.jobs.record",
        {"name": "cb"},
        connection=conn,
        job_id="job-cb",
        success_task_handler=httpserver.url_for("/done"),
    )
    run_worker(["sms"])
    tried = len(requests_to(httpserver, "/done"))
    assert tried >= 1
    assert Job.fetch("job-cb", connection=conn).get_status() == "finished"
    # the callback waits in the outbox, with its attempts, until the receiver answers 2xx
    ((entry, _),) = outbox.entries(conn)
    assert entry.id == "job-cb:finished:0" and entry.attempts == tried and entry.last_error == "HTTP 500"
    httpserver.clear()
    httpserver.expect_request("/done").respond_with_data("ok")
    wait_for(lambda: Sender(conn, settings).drain(2) >= 0 and not outbox.entries(conn), timeout=10, interval=0.1)
    assert len(requests_to(httpserver, "/done")) == 1
    assert Job.fetch("job-cb", connection=conn).get_status() == "finished"


def test_callback_refused_with_4xx_is_given_up_not_counted_delivered(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/done").respond_with_data("gone", status=410)
    enqueue("sms", "tests.jobs.record", {"name": "cb"}, connection=conn, job_id="job-410",
            success_task_handler=httpserver.url_for("/done"))  # fmt: skip
    run_worker(["sms"])
    assert len(requests_to(httpserver, "/done")) == 1
    assert not outbox.entries(conn)
    (dead,) = [json.loads(raw) for raw in conn.lrange(contract.OUTBOX_DEAD, 0, -1)]
    assert dead["id"] == "job-410:finished:0" and dead["last_error"] == "HTTP 410"
    assert conn.hget(contract.STATS, "outbox_given_up:callback") == b"1"


def test_unreachable_callback_does_not_fail_job(conn, settings, run_worker):
    enqueue(
        "sms",
        "tests.jobs.record",
        {"name": "cb"},
        connection=conn,
        job_id="job-cb2",
        success_task_handler="http://127.0.0.1:9/unreachable",
    )
    run_worker(["sms"])
    assert Job.fetch("job-cb2", connection=conn).get_status() == "finished"


def test_deferred_job_is_rescheduled_without_retry_or_callback(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "sms",
        "tests.jobs.deferred",
        {},
        priority=3,
        connection=conn,
        job_id="job-d",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["sms"])
    due = conn.zscore(contract.SCHEDULER_SET, "job-d")
    assert due is not None and due > time.time() + 20
    assert conn.hget(contract.job_key("job-d"), "retryCount") == b"0"
    assert conn.hget(contract.job_key("job-d"), "status") == b"scheduled"
    assert requests_to(httpserver, "/failed") == [] and conn.zcard("rq:failed:sms") == 0


def test_failure_callback_carries_error_details(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    enqueue(
        "pn",
        "tests.jobs.permanent_with_details",
        {},
        connection=conn,
        job_id="job-dt",
        failed_task_handler=httpserver.url_for("/failed"),
    )
    run_worker(["pn"])
    fields = form(requests_to(httpserver, "/failed")[0])
    assert fields["invalid_tokens"] == '["tok-1"]' and fields["status"] == "failed"


@pytest.fixture
def run_worker(run_each_worker):
    """Every test here runs with the in-process class (rq's bookkeeping) and the concurrent
    class (the lean path)."""
    return run_each_worker


# -- found by the mutation run (docs/reliability.md, "Mutation testing"): the sender's own POST ----


def test_handover_post_carries_the_key_and_the_callers_headers(settings, httpserver):
    httpserver.expect_request("/retryTask/", method="POST").respond_with_data("ok")
    post(
        httpserver.url_for("/retryTask/"), 2.0, "j:retried:1", data=b"[]", headers={"Content-Type": "application/json"}
    )
    (request,) = requests_to(httpserver, "/retryTask/")
    assert request.headers["Idempotency-Key"] == "j:retried:1"
    assert request.headers["Content-Type"] == "application/json" and request.data == b"[]"


def test_handover_post_never_follows_a_redirect(settings, httpserver):
    httpserver.expect_request("/retryTask/").respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_data("ok")
    with pytest.raises(Undeliverable, match="HTTP 302"):
        post(httpserver.url_for("/retryTask/"), 2.0, "j:retried:1", data=b"[]")
    assert requests_to(httpserver, "/elsewhere") == []


def test_handover_post_is_cut_at_its_timeout(settings, httpserver):
    def slow(_request: Request) -> Response:
        time.sleep(1.5)
        return Response("ok")

    httpserver.expect_request("/retryTask/").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(Unanswered, match=r"^ReadTimeout$"):
        post(httpserver.url_for("/retryTask/"), 0.3, "j:retried:1", data=b"[]")
    assert time.monotonic() - started < 1.4


def test_handover_post_keeps_the_servers_retry_after(settings, httpserver):
    httpserver.expect_request("/retryTask/").respond_with_data("busy", status=503, headers={"Retry-After": "7"})
    with pytest.raises(Unanswered) as busy:
        post(httpserver.url_for("/retryTask/"), 2.0, "j:retried:1", data=b"[]")
    assert str(busy.value) == "HTTP 503" and busy.value.retry_after == 7.0


def test_a_given_up_callback_is_logged_once_with_its_reason_masked(conn, settings, caplog):
    entry = outbox.Entry("j9:finished:0", outbox.CALLBACK, "j9", "finished", "http://127.0.0.1:9/done")
    with conn.pipeline() as pipe:
        outbox.stage(pipe, [entry])
        pipe.execute()
    sender = Sender(conn, settings)
    with caplog.at_level("ERROR", logger="rq_ext.sender"):
        sender._give_up(entry, "HTTP 404 for +919876543210")
        sender._give_up(entry, "HTTP 404 for +919876543210")  # already given up: no second line
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rq_ext.sender"]
    assert line == "finished callback of job j9 given up after 1 attempt(s): HTTP 404 for ********3210"


def _awaiting_handover(conn, job_id: str) -> outbox.Entry:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id=job_id)
    conn.zrem("rq:queue:sms", job_id)
    conn.zadd(contract.AWAITING_RETRY, {job_id: time.time()})
    entry = outbox.Entry(f"{job_id}:retried:1", outbox.HANDOVER, job_id, "retried", body='[{"a":1}]', fallback_delay=60)
    with conn.pipeline() as pipe:
        outbox.stage(pipe, [entry])
        pipe.execute()
    return entry


def test_handover_goes_to_the_servers_retry_task_with_its_key(conn, settings_factory, httpserver):
    settings = settings_factory(FUSION_SERVER=httpserver.url_for("/"))  # a trailing slash: one in the URL
    httpserver.expect_request("/retryTask/", method="POST").respond_with_data("ok")
    entry = _awaiting_handover(conn, "ho1")
    Sender(conn, settings).deliver(entry)
    (request,) = requests_to(httpserver, "/retryTask/")
    assert request.headers["Idempotency-Key"] == "ho1:retried:1"
    assert request.headers["Content-Type"] == "application/json" and request.data == b'[{"a":1}]'
    assert outbox.pending(conn) == 0 and conn.zscore(contract.SCHEDULER_SET, "ho1") is None


def test_a_slow_server_is_cut_at_retry_task_timeout_and_the_job_scheduled_locally(
    conn, settings_factory, httpserver, caplog
):
    settings = settings_factory(FUSION_SERVER=httpserver.url_for(""), RETRY_TASK_TIMEOUT=0.3)

    def slow(_request: Request) -> Response:
        time.sleep(1.5)
        return Response("ok")

    httpserver.expect_request("/retryTask/").respond_with_handler(slow)
    entry = _awaiting_handover(conn, "ho2")
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="rq_ext.sender"):
        Sender(conn, settings).deliver(entry)
        Sender(conn, settings).deliver(entry)  # a second sender: the job was already scheduled
    assert time.monotonic() - started < 2.5
    assert conn.zscore(contract.SCHEDULER_SET, "ho2") is not None and outbox.pending(conn) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "rq_ext.sender"]
    assert lines[0] == "retryTask for job ho2 failed (ReadTimeout); scheduled locally"
    assert lines[1] == "retryTask for job ho2 failed (ReadTimeout); already taken again"


def test_outbox_again_counts_the_attempt_and_waits_the_delay(conn, settings):
    entry = outbox.Entry("ag:finished:0", outbox.CALLBACK, "ag", "finished", "http://127.0.0.1:9/", attempts=1)
    with conn.pipeline() as pipe:
        outbox.stage(pipe, [entry])
        pipe.execute()
    before = time.time()
    outbox.again(conn, entry, 30.0, "HTTP 503 " + "y" * 400)
    due = conn.zscore(contract.OUTBOX_DUE, "ag:finished:0")
    assert before + 30 <= due <= time.time() + 30
    stored = outbox.Entry.loads(conn.hget(contract.OUTBOX_ENTRIES, "ag:finished:0"))
    assert stored.attempts == 2 and stored.last_error == ("HTTP 503 " + "y" * 400)[:300]


def _callback_entry(conn, entry_id: str, created: float) -> outbox.Entry:
    entry = outbox.Entry(
        entry_id, outbox.CALLBACK, "cb", "finished", "http://127.0.0.1:9/done?token=s3cr3t", created=created
    )
    with conn.pipeline() as pipe:
        outbox.stage(pipe, [entry])
        pipe.execute()
    return entry


def test_an_unanswered_callback_waits_at_least_the_receivers_retry_after(conn, settings, caplog):
    entry = _callback_entry(conn, "cb:finished:0", time.time())
    before = time.time()
    with caplog.at_level("WARNING", logger="rq_ext.sender"):
        Sender(conn, settings)._again(entry, Unanswered("HTTP 429", retry_after=300.0))
    assert conn.zscore(contract.OUTBOX_DUE, "cb:finished:0") >= before + 300
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rq_ext.sender"]
    assert line.startswith("finished callback to http://127.0.0.1:9/done?token=") and "s3cr3t" not in line
    assert "failed (HTTP 429), attempt 1; next in 300.0s" in line


def test_a_callback_past_the_horizon_is_given_up_with_the_reason(conn, settings_factory):
    settings = settings_factory(OUTBOX_HORIZON=3600.0)
    # one second inside the horizon, but the next try (Retry-After 60 s) would fall after it
    entry = _callback_entry(conn, "cb:finished:1", time.time() - 3599.0)
    Sender(conn, settings)._again(entry, Unanswered("HTTP 503", retry_after=60.0))
    assert outbox.pending(conn) == 0
    (raw,) = conn.lrange(contract.OUTBOX_DEAD, 0, -1)
    assert json.loads(raw)["last_error"] == "HTTP 503 (OUTBOX_HORIZON reached)"


def test_without_a_server_a_handover_is_scheduled_locally_and_says_why(conn, settings, caplog):
    entry = _awaiting_handover(conn, "ho3")
    with caplog.at_level("WARNING", logger="rq_ext.sender"):
        Sender(conn, settings).deliver(entry)
    assert conn.zscore(contract.SCHEDULER_SET, "ho3") is not None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rq_ext.sender"]
    assert line == "retryTask for job ho3 failed (FUSION_SERVER is not set); scheduled locally"
