"""The circuit breaker per gateway account, through the real ``tasks.sms.send_sms`` path: a real
local provider (pytest-httpserver on 127.0.0.1) goes down and comes back; jobs run on workers
against the tests' own redis-server."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from rq.job import Job
from werkzeug import Request, Response

from rq_ext import breakers, contract, enqueue
from tasks.gateways.accounts import resolve
from tests.conftest import start_worker_process, wait_for
from tests.sms.harness import NUMBER, textlocal_ok

TEXTLOCAL = "/tl/send/"
MSG91 = "/m91/api/sendhttp.php"
FAST = {"BREAKER_FAILURES": 3, "BREAKER_COOLDOWN": 30.0, "BREAKER_FAILURE_RATE": 0.0}
#: A cool-down the probe tests wait out.
SHORT = {**FAST, "BREAKER_COOLDOWN": 3.0}


class Provider:
    """A fake textlocal: accepts when ``up``, answers 503 when down; counts the requests."""

    def __init__(self, httpserver: Any, up: bool = False) -> None:
        self.up = up
        self.hits = 0
        httpserver.expect_request(TEXTLOCAL).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.hits += 1
        if not self.up:
            return Response("service unavailable", status=503)
        return Response(json.dumps(textlocal_ok(NUMBER, batch=self.hits)), content_type="application/json")


def fallback_hits(httpserver: Any) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == MSG91)


def task(httpserver: Any, fallback: bool = True) -> dict[str, Any]:
    primary = {"api_key": "tl-key", "base_url": httpserver.url_for("/tl")}
    second = {
        "gateway": "msg91_sendhttp",
        "config": {"auth_key": "m91-key", "sender": "LABXYZ", "base_url": httpserver.url_for("/m91")},
    }
    payload = {"task": 1, "gateway": "textlocal", "config": primary, "to": NUMBER, "message": "Report ready"}
    return {"payload": {**payload, "fallback": [second] if fallback else []}}


def put(conn: Any, job_ids: list[str], job_task: dict[str, Any]) -> None:
    for job_id in job_ids:
        enqueue("sms", "tasks.sms.send_sms", job_task, connection=conn, job_id=job_id)


def textlocal_breaker(conn: Any) -> breakers.BreakerView:
    (found,) = [v for v in breakers.read_all(conn) if v.gateway == "textlocal"]
    return found


def test_after_the_threshold_jobs_go_straight_to_the_fallback(conn, settings_factory, run_each_worker, httpserver):
    run_worker = run_each_worker  # the in-process class and the concurrent class (job threads)
    settings_factory(**FAST)
    provider = Provider(httpserver)
    httpserver.expect_request(MSG91).respond_with_data("5134842646923e183d000075")
    ids = [f"fb-{i}" for i in range(6)]
    put(conn, ids, task(httpserver))
    run_worker(["sms"])
    assert provider.hits == 3  # the 4th, 5th and 6th jobs never waited for the down gateway
    assert fallback_hits(httpserver) == 6
    assert {Job.fetch(i, connection=conn).get_status() for i in ids} == {"finished"}
    view = textlocal_breaker(conn)
    assert (view.state, view.failures, view.trips, view.last_error) == ("open", 3, 1, "ProviderUnavailable")
    assert view.channel == "sms" and view.account.startswith("cfg-")
    assert conn.hget(contract.STATS, "breaker_skips:sms:textlocal") == b"3"


def test_a_closed_port_trips_it_too_and_without_fallback_the_job_is_deferred(conn, settings_factory, run_worker):
    settings_factory(BREAKER_FAILURES=2, BREAKER_COOLDOWN=30.0, BREAKER_FAILURE_RATE=0.0)
    with socket.socket() as sock:  # a loopback port nobody listens on: the gateway is down
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    put(conn, ["nf-3", "nf-2"], _closed_task(closed))
    run_worker(["sms"])  # two real failures: retried, and the breaker opens
    assert textlocal_breaker(conn).state == "open"
    put(conn, ["nf-1"], _closed_task(closed))
    before = time.time()
    run_worker(["sms"])
    due = conn.zscore(contract.SCHEDULER_SET, "nf-1")
    assert due is not None and before + 25 < due <= time.time() + 30.5  # deferred for the cool-down
    assert conn.hget(contract.job_key("nf-1"), contract.RETRY_COUNT) == b"0"  # not counted as a retry
    assert conn.zcard("rq:failed:sms") == 0


def _closed_task(base_url: str) -> dict[str, Any]:
    config = {"api_key": "tl-key", "base_url": base_url}
    return {"payload": {"task": 1, "gateway": "textlocal", "config": config, "to": NUMBER, "message": "Report ready"}}


def test_one_probe_closes_it_when_the_provider_is_back(conn, settings_factory, run_worker, httpserver):
    settings_factory(**SHORT)
    provider = Provider(httpserver)
    httpserver.expect_request(MSG91).respond_with_data("5134842646923e183d000075")
    put(conn, ["a-1", "a-2", "a-3"], task(httpserver))
    run_worker(["sms"])
    assert (provider.hits, textlocal_breaker(conn).trips) == (3, 1)
    provider.up = True
    wait_for(lambda: textlocal_breaker(conn).state == "half_open", timeout=5)  # the cool-down ends
    put(conn, ["b-1", "b-2", "b-3"], task(httpserver))
    run_worker(["sms"])
    assert provider.hits == 3 + 3  # the probe succeeded, the breaker closed, the others followed
    assert fallback_hits(httpserver) == 3
    view = textlocal_breaker(conn)
    assert (view.state, view.failures) == ("closed", 0)


def test_a_failed_probe_opens_it_again(conn, settings_factory, run_worker, httpserver):
    settings_factory(**SHORT)
    provider = Provider(httpserver)
    httpserver.expect_request(MSG91).respond_with_data("5134842646923e183d000075")
    put(conn, ["a-1", "a-2", "a-3"], task(httpserver))
    run_worker(["sms"])
    wait_for(lambda: textlocal_breaker(conn).state == "half_open", timeout=5)
    put(conn, ["b-1", "b-2", "b-3"], task(httpserver))
    run_worker(["sms"])
    assert provider.hits == 3 + 1  # one probe only; it failed and the breaker opened again
    view = textlocal_breaker(conn)
    assert view.trips == 2
    assert fallback_hits(httpserver) == 6


def test_permanent_failures_do_not_count(conn, settings_factory, run_worker, httpserver):
    settings_factory(**FAST)
    refusal = {"status": "failure", "errors": [{"code": 3, "message": "Invalid login details"}]}
    httpserver.expect_request(TEXTLOCAL).respond_with_json(refusal)
    ids = [f"p-{i}" for i in range(5)]
    put(conn, ids, task(httpserver, fallback=False))
    run_worker(["sms"])
    assert sum(1 for r, _ in httpserver.log if r.path == TEXTLOCAL) == 5
    assert {Job.fetch(i, connection=conn).get_status() for i in ids} == {"failed"}
    assert breakers.read_all(conn) == []


def test_another_worker_process_sees_the_open_breaker(conn, settings_factory, run_worker, httpserver, redis_server):
    settings_factory(**{**FAST, "BREAKER_COOLDOWN": 60.0})
    provider = Provider(httpserver)
    httpserver.expect_request(MSG91).respond_with_data("5134842646923e183d000075")
    put(conn, ["a-1", "a-2", "a-3"], task(httpserver))
    run_worker(["sms"])
    assert (provider.hits, textlocal_breaker(conn).state) == (3, "open")
    put(conn, ["other-1", "other-2"], task(httpserver))
    proc = start_worker_process(redis_server.url, "--customq", "sms", "-b", BREAKER_FAILURES=3, BREAKER_COOLDOWN=60)
    assert proc.wait(timeout=60) == 0
    assert provider.hits == 3  # the other process skipped the down gateway at once
    assert fallback_hits(httpserver) == 5
    assert {Job.fetch(i, connection=conn).get_status() for i in ("other-1", "other-2")} == {"finished"}


def test_a_redis_error_in_the_breaker_never_fails_the_job(conn, settings_factory, run_each_worker, httpserver, caplog):
    settings_factory(**FAST)
    provider = Provider(httpserver, up=True)
    job_task = task(httpserver, fallback=False)
    put(conn, ["r-1"], job_task)
    enqueued = Job.fetch("r-1", connection=conn)
    label = resolve(job_task["payload"], {}, "SMS_ACCOUNTS").label
    conn.set(contract.breaker_key("sms", "textlocal", label), "not a hash")  # every breaker call: WRONGTYPE
    run_each_worker(["sms"])
    assert provider.hits == 1
    assert enqueued.get_status(refresh=True) == "finished"
    assert "Redis error on admit (ResponseError); going on as if closed" in caplog.text
