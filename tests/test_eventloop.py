"""The event-loop worker class on its own path: webhook plans on the loop (aiohttp), their
deadlines, their ledger records, mixed with plan-less jobs on the thread pool, warm shutdown
with sends in flight, the CLI."""

from __future__ import annotations

import signal
import time

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from rq_ext.eventloop import FusionAsyncWorker
from tests.conftest import start_worker_process, wait_for
from tests.fault_servers import Recorder


@pytest.fixture
def recorder():
    server = Recorder(latency=(0.05, 0.05))
    yield server
    server.stop()


def webhook(recorder: Recorder, n: int, **extra) -> dict:
    return {"payload": {"task": 4, "url": recorder.url + "/send", "json": {"job": f"j{n}"}, **extra}}


def statuses(conn, jobs) -> set[str]:
    return {Job.fetch(j.id, connection=conn).get_status() for j in jobs}


def test_webhooks_run_at_once_on_the_loop_each_sent_once(conn, settings, run_worker, recorder):
    jobs = [
        enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(200)
    ]
    started = time.monotonic()
    worker = run_worker(["webhook"], cls=FusionAsyncWorker, concurrency=64)
    assert time.monotonic() - started < 200 * 0.05 / 4  # not one at a time
    assert statuses(conn, jobs) == {"finished"}
    assert set(recorder.jobs_sent().values()) == {1} and len(recorder.jobs_sent()) == 200
    assert conn.hget(contract.LEDGER_PREFIX + jobs[0].id, "webhook:request") == b"200"
    assert Job.fetch(jobs[0].id, connection=conn).return_value() == {"channel": "webhook", "status_code": 200}
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:webhook") == 0
    assert int(conn.hget(worker.key, "successful_job_count")) == 200


def test_a_plan_past_its_deadline_is_cut_alone(conn, settings, run_worker, recorder, httpserver):
    """A send that never answers is cut at the job's timeout (rq's JobTimeoutException, a
    retryable failure); the other jobs on the loop finish meanwhile."""
    slow = Recorder()
    slow.hold = __import__("threading").Event()
    try:
        stuck = enqueue("webhook", "tasks.webhooks.send_webhook",
                        {"payload": {"task": 4, "url": slow.url + "/send", "json": {"job": "s"}, "timeout": 30}},
                        connection=conn, timeout=1)  # fmt: skip
        quick = [
            enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(5)
        ]
        started = time.monotonic()
        run_worker(["webhook"], cls=FusionAsyncWorker, concurrency=8)
        assert time.monotonic() - started < 15
    finally:
        slow.stop()
    assert statuses(conn, quick) == {"finished"}
    assert conn.hget(stuck.key, "status") == b"scheduled" and conn.hget(stuck.key, "retryCount") == b"1"
    assert "timeout" in conn.hget(stuck.key, "last_failure").decode().lower()


def test_plans_and_blocking_jobs_share_the_worker(conn, settings, run_worker, recorder):
    sends = [
        enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(20)
    ]
    blocking = [enqueue("webhook", "tests.jobs.record", {"name": f"b{n}"}, connection=conn) for n in range(20)]
    run_worker(["webhook"], cls=FusionAsyncWorker, concurrency=16)
    assert statuses(conn, sends + blocking) == {"finished"}
    assert [conn.get(f"runs:{j.id}") for j in blocking] == [b"1"] * 20
    assert len(recorder.jobs_sent()) == 20


def test_dispatch_routes_webhooks_to_their_plan(conn, settings, run_worker, recorder):
    jobs = [enqueue("webhook", "tasks.dispatch", webhook(recorder, n), connection=conn) for n in range(5)]
    run_worker(["webhook"], cls=FusionAsyncWorker, concurrency=4)
    assert statuses(conn, jobs) == {"finished"} and len(recorder.jobs_sent()) == 5


def test_refused_and_failing_sends_are_classified(conn, settings, run_worker, recorder):
    recorder.status = 503
    busy = enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, 1), connection=conn)
    closed = enqueue("webhook", "tasks.webhooks.send_webhook",
                     {"payload": {"task": 4, "url": "http://127.0.0.1:9/send", "json": {}}}, connection=conn)  # fmt: skip
    refused = enqueue("webhook", "tasks.webhooks.send_webhook",
                      {"payload": {"task": 4, "url": "http://10.0.0.1/send", "json": {}}}, connection=conn)  # fmt: skip
    run_worker(["webhook"], cls=FusionAsyncWorker, concurrency=4)
    for job in (busy, closed):  # retryable: handed to the local retry schedule
        assert conn.hget(job.key, "status") == b"scheduled" and conn.hget(job.key, "retryCount") == b"1"
    assert "503" in conn.hget(busy.key, "last_failure").decode()
    assert "connection failed" in conn.hget(closed.key, "last_failure").decode()
    assert Job.fetch(refused.id, connection=conn).get_status() == "failed"  # the whitelist: permanent


def test_warm_shutdown_waits_for_the_sends_in_flight(conn, settings, redis_server):
    slow = Recorder(latency=(2.0, 2.0))
    try:
        jobs = [enqueue("webhook", "tasks.webhooks.send_webhook", webhook(slow, n), connection=conn) for n in range(30)]
        proc = start_worker_process(redis_server.url, "--customq", "webhook", "--worker-class", "async")
        wait_for(lambda: len(slow.requests) == 30, timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        slow.stop()
    assert statuses(conn, jobs) == {"finished"}
    assert set(slow.jobs_sent().values()) == {1}
    assert conn.zcard(contract.CLAIMS) == 0


def test_cli_async_defaults_to_256_slots(conn, settings, redis_server):
    proc = start_worker_process(redis_server.url, "--customq", "webhook", "--worker-class", "async", "--burst")
    assert proc.wait(timeout=30) == 0
    with open(proc.log_path) as fh:
        log = fh.read()
    assert "worker_class=async concurrency=256" in log
