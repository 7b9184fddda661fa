"""The concurrent worker classes (threads; the event loop, whose plan-less jobs run on its thread
pool): several jobs at once, each with the full lifecycle. Every test runs on both."""

from __future__ import annotations

import os
import signal
import time

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from rq_ext.concurrent import FusionConcurrentWorker
from rq_ext.eventloop import FusionAsyncWorker
from tests.conftest import start_worker_process, wait_for
from tests.test_processes import children

CLASSES = {"concurrent": FusionConcurrentWorker, "async": FusionAsyncWorker}


@pytest.fixture(params=list(CLASSES))
def kind(request) -> str:
    return request.param


@pytest.fixture
def worker_cls(kind):
    return CLASSES[kind]


def cli_args(kind: str, concurrency: int = 4) -> list[str]:
    return ["--worker-class", kind, "--concurrency", str(concurrency)]


def max_overlap(conn) -> int:
    spans = [tuple(map(float, s.decode().split(":"))) for s in conn.lrange("spans", 0, -1)]
    points = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda p: (p[0], p[1]))
    current = best = 0
    for _, delta in points:
        current += delta
        best = max(best, current)
    return best


def test_runs_jobs_at_once_and_each_exactly_once(conn, settings, run_worker, worker_cls):
    jobs = [enqueue("webhook", "tests.jobs.span", {"seconds": 0.3}, connection=conn) for _ in range(24)]
    run_worker(["webhook"], cls=worker_cls, concurrency=8)
    assert [conn.get(f"runs:{j.id}") for j in jobs] == [b"1"] * 24
    assert all(Job.fetch(j.id, connection=conn).get_status() == "finished" for j in jobs)
    assert max_overlap(conn) >= 4
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:webhook") == 0


def test_priority_respected_with_one_slot(conn, settings, run_worker, worker_cls):
    for name, priority in [("c", 1), ("a", 30), ("b", 20)]:
        enqueue("sms", "tests.jobs.record", {"name": name}, priority=priority, connection=conn)
    run_worker(["sms"], cls=worker_cls, concurrency=1)
    assert conn.lrange("order", 0, -1) == [b"a", b"b", b"c"]


def test_timeout_cuts_only_that_job(conn, settings, run_worker, httpserver, worker_cls):
    httpserver.expect_request("/done").respond_with_data("ok")
    slow = enqueue("webhook", "tests.jobs.span", {"seconds": 30}, connection=conn, timeout=1)
    quick = [
        enqueue(
            "webhook",
            "tests.jobs.span",
            {"seconds": 0.2},
            connection=conn,
            success_task_handler=httpserver.url_for("/done"),
        )
        for _ in range(5)
    ]
    started = time.monotonic()
    run_worker(["webhook"], cls=worker_cls, concurrency=4)
    assert time.monotonic() - started < 15
    assert all(Job.fetch(j.id, connection=conn).get_status() == "finished" for j in quick)
    assert conn.hget(slow.key, "status") == b"scheduled"  # timed out: retryable
    assert conn.hget(slow.key, "retryCount") == b"1"
    assert len([r for r, _ in httpserver.log if r.path == "/done"]) == 5


def test_warm_shutdown_waits_for_all_in_flight(conn, settings, redis_server, kind):
    jobs = [enqueue("sms", "tests.jobs.span", {"seconds": 2}, connection=conn) for _ in range(4)]
    proc = start_worker_process(redis_server.url, "--customq", "sms", *cli_args(kind))
    wait_for(lambda: all(conn.get(f"runs:{j.id}") for j in jobs), timeout=20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert all(Job.fetch(j.id, connection=conn).get_status() == "finished" for j in jobs)


def test_cold_stop_puts_every_in_flight_job_back(conn, settings, redis_server, kind):
    jobs = [enqueue("sms", "tests.jobs.span", {"seconds": 60}, priority=i, connection=conn) for i in range(3)]
    proc = start_worker_process(redis_server.url, "--customq", "sms", *cli_args(kind))
    wait_for(lambda: all(conn.get(f"runs:{j.id}") for j in jobs), timeout=20)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1.3)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert {conn.zscore("rq:queue:sms", j.id) for j in jobs} == {0, 1, 2}
    assert conn.zcard(contract.CLAIMS) == 0


def test_kill_9_recovers_every_in_flight_job(conn, settings, redis_server, kind):
    lease = {"CLAIM_LEASE": 2, "RECOVERY_INTERVAL": 0.5}
    jobs = [enqueue("sms", "tests.jobs.span", {"seconds": 60}, connection=conn) for _ in range(3)]
    proc = start_worker_process(redis_server.url, "--customq", "sms", *cli_args(kind), **lease)
    wait_for(lambda: all(conn.get(f"runs:{j.id}") for j in jobs), timeout=20)
    for pid in [proc.pid, *children(proc.pid)]:
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    from rq_ext.recovery import recover_abandoned

    wait_for(lambda: recover_abandoned(conn) >= 0 and conn.zcard("rq:queue:sms") == 3, timeout=20, interval=0.5)
    assert conn.zcard("rq:queue:sms") == 3
    assert all(conn.hget(j.key, "recoveries") == b"1" for j in jobs)


def test_batched_claims_keep_priority_order(conn, settings, run_worker, worker_cls):
    """With several slots, jobs are claimed in batches; a job is never started before one of
    higher priority (claim time, the ``started_at`` the claim script writes, follows priority)."""
    jobs = {p: enqueue("sms", "tests.jobs.record", {"name": str(p)}, priority=p, connection=conn) for p in range(40)}
    run_worker(["sms"], cls=worker_cls, concurrency=8)
    started = {p: Job.fetch(j.id, connection=conn).started_at for p, j in jobs.items()}
    assert all(started[p] >= started[p + 1] for p in range(39))
    assert [conn.get(f"runs:{j.id}") for j in jobs.values()] == [b"1"] * 40


def test_lean_finish_is_rqs_own_bookkeeping(conn, settings, run_worker, worker_cls):
    """A job finished on the lean path reads back through rq's API as rq writes it: status,
    dates, result, finished registry, worker counters; no claim or wip entry is left."""
    from rq.registry import FinishedJobRegistry

    job = enqueue("sms", "tests.jobs.record", {"name": "r"}, connection=conn)
    worker = run_worker(["sms"], cls=worker_cls, concurrency=4)
    done = Job.fetch(job.id, connection=conn)
    assert done.get_status() == "finished" and done.worker_name == worker.name
    assert done.started_at <= done.ended_at and done.enqueued_at <= done.started_at
    assert done.return_value() == {"provider_id": "msg-r"}
    assert done.latest_result().type.name == "SUCCESSFUL"
    assert job.id in FinishedJobRegistry("sms", connection=conn).get_job_ids()
    assert 0 < conn.ttl(job.key) <= settings.RESULT_TTL
    assert int(conn.hget(worker.key, "successful_job_count")) == 1
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:sms") == 0
