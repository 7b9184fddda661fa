"""Real worker processes: the claim race, kill -9 recovery, SIGTERM warm and cold stops."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from rq_ext.recovery import recover_abandoned
from rq_ext.sender import Sender
from tests.conftest import start_worker_process, wait_for


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_workers_never_run_the_same_job(conn, settings, redis_server):
    jobs = [enqueue("sms", "tests.jobs.record", {"name": f"j{i}"}, priority=i % 7, connection=conn) for i in range(240)]
    workers = [
        start_worker_process(redis_server.url, "--customq", "sms", "--burst", "--worker-class", cls)
        for cls in ("simple", "simple", "simple", "fork")
    ]
    for proc in workers:
        assert proc.wait(timeout=120) == 0
    runs = [int(conn.get(f"runs:{job.id}") or 0) for job in jobs]
    assert runs == [1] * len(jobs)
    assert conn.zcard("rq:queue:sms") == 0 and conn.zcard(contract.CLAIMS) == 0


def test_abandoned_job_recovered_after_kill_9(conn, settings, redis_server):
    lease = {"CLAIM_LEASE": 2, "RECOVERY_INTERVAL": 0.5}
    job = enqueue(
        "webhook",
        "tests.jobs.record",
        {"name": "long", "sleep_first": 60},
        priority=7,
        connection=conn,
        job_id="abandoned",
    )
    first = start_worker_process(redis_server.url, "--customq", "webhook", **lease)
    try:
        wait_for(lambda: conn.get("runs:abandoned") == b"1", timeout=20)
        horses = children(first.pid)
        assert horses, "the forking worker should have a work horse"
        for pid in [first.pid, *horses]:
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        second = start_worker_process(redis_server.url, "--customq", "webhook", **lease)
        try:
            wait_for(lambda: Job.fetch(job.id, connection=conn).get_status() == "finished", timeout=30)
            recovered_after = time.monotonic() - killed_at
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    assert conn.get("runs:abandoned") == b"2"
    assert conn.hget(job.key, "recoveries") == b"1"
    assert conn.zcard("rq:failed:webhook") == 0
    assert recovered_after < 30


def test_recovery_keeps_priority_and_clears_started_entry(conn, settings):
    job = enqueue("sms", "tests.jobs.record", {}, priority=33, connection=conn, job_id="r1")
    conn.zrem("rq:queue:sms", job.id)
    conn.zadd(contract.CLAIMS, {job.id: time.time() - 1})
    conn.hset(job.key, "status", "started")
    conn.zadd("rq:wip:sms", {f"{job.id}:exec1": time.time() + 100})
    assert recover_abandoned(conn) == 1
    assert conn.zscore("rq:queue:sms", job.id) == 33
    assert conn.zcard("rq:wip:sms") == 0
    assert conn.hget(job.key, "status") == b"queued"


def test_job_abandoned_too_often_fails(conn, settings, httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    job = enqueue(
        "sms", "tests.jobs.record", {}, connection=conn, job_id="r3", failed_task_handler=httpserver.url_for("/failed")
    )
    conn.zrem("rq:queue:sms", job.id)
    conn.hset(job.key, mapping={"status": "started", "recoveries": 3})
    conn.zadd(contract.CLAIMS, {job.id: time.time() - 1})
    assert recover_abandoned(conn) == 0
    assert conn.zscore("rq:failed:sms", job.id) is not None
    assert not httpserver.log  # recovery does no HTTP: the callback waits in the outbox
    Sender(conn, settings).drain(5)
    ((request, _),) = httpserver.log
    assert "abandoned" in request.form["failure_trace"]


def test_unexpired_claim_is_left_alone(conn, settings):
    job = enqueue("sms", "tests.jobs.record", {}, connection=conn)
    conn.zrem("rq:queue:sms", job.id)
    conn.zadd(contract.CLAIMS, {job.id: time.time() + 30})
    conn.hset(job.key, "status", "started")
    assert recover_abandoned(conn) == 0
    assert conn.zscore("rq:queue:sms", job.id) is None


def test_sigterm_finishes_job_in_hand_then_exits_0(conn, settings, redis_server):
    for cls in ("fork", "simple"):
        job = enqueue("sms", "tests.jobs.record", {"name": cls, "sleep": 1.5}, connection=conn)
        proc = start_worker_process(redis_server.url, "--customq", "sms", "--worker-class", cls)
        wait_for(lambda j=job: conn.get(f"runs:{j.id}") == b"1", timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert Job.fetch(job.id, connection=conn).get_status() == "finished"


def test_second_sigterm_stops_now_and_job_goes_back(conn, settings, redis_server):
    for cls in ("fork", "simple"):
        job = enqueue("sms", "tests.jobs.record", {"name": cls, "sleep": 60}, priority=12, connection=conn)
        proc = start_worker_process(redis_server.url, "--customq", "sms", "--worker-class", cls)
        wait_for(lambda j=job: conn.get(f"runs:{j.id}") == b"1", timeout=20)
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.3)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert conn.zscore("rq:queue:sms", job.id) == 12
        assert conn.hget(job.key, "status") == b"queued"
        assert conn.zscore(contract.CLAIMS, job.id) is None
        assert conn.zcard("rq:failed:sms") == 0
        conn.zrem("rq:queue:sms", job.id)


def test_sigterm_to_every_process_still_finishes_the_job(conn, settings, redis_server):
    """A Procfile platform signals the worker and its work horse alike."""
    job = enqueue("sms", "tests.jobs.record", {"name": "heroku", "sleep": 2}, connection=conn)
    proc = start_worker_process(redis_server.url, "--customq", "sms")
    wait_for(lambda: conn.get(f"runs:{job.id}") == b"1", timeout=20)
    for pid in [proc.pid, *children(proc.pid)]:
        os.kill(pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert Job.fetch(job.id, connection=conn).get_status() == "finished"


@pytest.mark.parametrize("cls", ["fork", "simple"])
def test_sigterm_just_after_a_job_stops_the_worker(conn, settings, redis_server, cls):
    """The worker is idle again but still in the after-job hooks (an ``except Exception``) when
    SIGTERM comes: rq's StopRequested raised there was swallowed and the worker never stopped."""
    job = enqueue("sms", "tests.jobs.record", {}, connection=conn)
    middleware = {"JOB_MIDDLEWARE": "tests.jobs:SlowAfterHook"}
    proc = start_worker_process(redis_server.url, "--customq", "sms", "--worker-class", cls, **middleware)
    wait_for(lambda: conn.get(f"after_job:{job.id}") == b"finished", timeout=30)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("cls", ["fork", "simple", "concurrent", "async"])
def test_sigterm_to_an_idle_worker_stops_it_promptly(conn, settings, redis_server, cls):
    """Whatever the idle loop is doing when SIGTERM comes (claiming, waiting for jobs, a heartbeat,
    housekeeping), the worker exits 0 soon after."""
    for delay in (0.0, 0.3):
        proc = start_worker_process(redis_server.url, "--customq", "sms", "--worker-class", cls, POLL_INTERVAL=0.2)
        wait_for(lambda: idle_workers(conn), timeout=30)  # rq's signal handlers are in place by then
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        conn.delete(*conn.keys("rq:worker*"))


def idle_workers(conn) -> list[bytes]:
    return [key for key in conn.keys("rq:worker:*") if conn.hget(key, "state") == b"idle"]
