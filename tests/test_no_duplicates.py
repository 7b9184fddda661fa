"""No duplicate sends: a worker killed right after a provider accepted part of a job; the
recovered job sends only what was not accepted yet."""

from __future__ import annotations

import json
import os
import signal
from urllib.parse import parse_qs

import pytest
from rq.job import Job
from werkzeug import Request, Response

from rq_ext import enqueue
from tests.conftest import start_worker_process, wait_for
from tests.test_processes import children

FIRST, SECOND = "+919876543210", "+919812345678"
LEASE = {"CLAIM_LEASE": 2, "RECOVERY_INTERVAL": 0.5}


def test_killed_after_partial_acceptance_sends_only_the_rest(conn, settings, redis_server, httpserver):
    received: list[str] = []
    state: dict[str, object] = {"worker": None}

    def provider(request: Request) -> Response:
        number = parse_qs(request.get_data(as_text=True))["To"][0]
        received.append(number)
        if number == SECOND and received.count(SECOND) == 1:
            proc = state["worker"]
            for pid in [proc.pid, *children(proc.pid)]:  # type: ignore[attr-defined]
                os.kill(pid, signal.SIGKILL)  # dies before it hears the answer
            return Response("{}", status=500)
        return Response(
            json.dumps({"status": "queued", "sid": f"SM-{len(received)}"}), status=201, content_type="application/json"
        )

    httpserver.expect_request("/2010-04-01/Accounts/AC1/Messages.json").respond_with_handler(provider)
    config = {"account_sid": "AC1", "auth_token": "tok", "sender": "+15005550006", "base_url": httpserver.url_for("")}
    task = {"payload": {"task": 1, "gateway": "twilio", "config": config, "to": [FIRST, SECOND], "message": "Hi"}}
    job = enqueue("sms", "tasks.sms.send_sms", task, connection=conn)
    state["worker"] = first = start_worker_process(redis_server.url, "--customq", "sms", **LEASE)
    first.wait(timeout=30)
    assert received == [FIRST, SECOND]
    second = start_worker_process(redis_server.url, "--customq", "sms", **LEASE)
    try:
        wait_for(lambda: Job.fetch(job.id, connection=conn).get_status() == "finished", timeout=30)
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert received.count(FIRST) == 1, "the number the provider accepted was sent again"
    assert received == [FIRST, SECOND, SECOND]


def test_recovered_webhook_already_delivered_is_not_sent_again(conn, settings, run_worker, httpserver):
    from rq_ext.ledger import Ledger

    httpserver.expect_request("/hook").respond_with_data("ok")
    job = enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        {"payload": {"task": 4, "url": httpserver.url_for("/hook"), "json": {}}},
        connection=conn,
    )
    Ledger("webhook", job_id=job.id, connection=conn).record("request", "200")  # accepted before a crash
    run_worker(["webhook"])
    assert [r.path for r, _ in httpserver.log] == []
    assert Job.fetch(job.id, connection=conn).get_status() == "finished"


def test_provider_client_reference_is_the_job_id(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/sms/json").respond_with_json({"messages": [{"status": "0", "message-id": "V1"}]})
    config = {"api_key": "k", "api_secret": "s", "sender": "LAB", "base_url": httpserver.url_for("")}
    task = {"payload": {"task": 1, "gateway": "vonage", "config": config, "to": FIRST, "message": "Hi"}}
    job = enqueue("sms", "tasks.sms.send_sms", task, connection=conn)
    run_worker(["sms"])
    (request,) = [r for r, _ in httpserver.log if r.path == "/sms/json"]
    assert parse_qs(request.get_data(as_text=True))["client-ref"] == [job.id]
    assert Job.fetch(job.id, connection=conn).get_status() == "finished"


@pytest.fixture
def run_worker(run_each_worker):
    """Every test here runs with the in-process class (rq's bookkeeping) and the concurrent
    class (the lean path)."""
    return run_each_worker
