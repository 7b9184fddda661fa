"""The event-loop worker class on its own path: webhook plans on the loop (its own HTTP client;
aiohttp with ``ASYNC_HTTP_CLIENT=aiohttp``), their
deadlines, their ledger records, mixed with plan-less jobs on the thread pool, warm shutdown
with sends in flight, the CLI."""

from __future__ import annotations

import signal
import time

import pytest
from rq.job import Job

from rq_ext import contract, enqueue, metrics
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
    assert time.monotonic() - started < 200 * 0.05 / 2  # not one at a time (start-up included)
    assert statuses(conn, jobs) == {"finished"}
    assert set(recorder.jobs_sent().values()) == {1} and len(recorder.jobs_sent()) == 200
    assert conn.hget(contract.LEDGER_PREFIX + jobs[0].id, "webhook:request") == b"200"
    assert Job.fetch(jobs[0].id, connection=conn).return_value() == {"channel": "webhook", "status_code": 200}
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:webhook") == 0
    assert int(conn.hget(worker.key, "successful_job_count")) == 200


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_either_http_client_sends_each_webhook_once_on_kept_connections(conn, settings_factory, recorder, client):
    from wrappers.aio_http import AioTransport
    from wrappers.loop_http import LoopTransport

    settings_factory(ASYNC_HTTP_CLIENT=client)
    jobs = [enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(60)]
    worker = FusionAsyncWorker(["webhook"], connection=conn, concurrency=16)
    worker.work(burst=True)
    assert worker.drivers is not None
    assert isinstance(worker.drivers.transport, AioTransport if client == "aiohttp" else LoopTransport)
    assert statuses(conn, jobs) == {"finished"}
    assert set(recorder.jobs_sent().values()) == {1} and len(recorder.jobs_sent()) == 60


@pytest.mark.parametrize("client", ["native", "redis-py"])
def test_either_redis_client_claims_finishes_and_records_each_job_once(conn, settings_factory, recorder, client):
    from rq_ext.resp import LeanRedis

    settings_factory(ASYNC_REDIS_CLIENT=client)
    jobs = [enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(60)]
    worker = FusionAsyncWorker(["webhook"], connection=conn, concurrency=16)
    worker.work(burst=True)
    assert isinstance(worker._aredis, LeanRedis) == (client == "native")
    assert statuses(conn, jobs) == {"finished"}
    assert set(recorder.jobs_sent().values()) == {1} and len(recorder.jobs_sent()) == 60
    assert all(conn.exists(f"fusion:delivered:{job.id}") for job in jobs)  # the ledger records
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:webhook") == 0


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


def test_max_jobs_claims_no_more_than_that(conn, settings, recorder):
    """``--max-jobs``: the claim loop on the event loop claims that many jobs in all, and the
    others stay queued (none claimed and put back)."""
    jobs = [enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, n), connection=conn) for n in range(30)]
    worker = FusionAsyncWorker(["webhook"], connection=conn, concurrency=16)
    worker.work(burst=False, max_jobs=7)
    assert [Job.fetch(j.id, connection=conn).get_status() for j in jobs].count("finished") == 7
    assert conn.zcard("rq:queue:webhook") == 23 and conn.zcard(contract.CLAIMS) == 0
    assert len(recorder.jobs_sent()) == 7


def test_suspended_workers_claim_nothing_until_resumed(conn, settings, redis_server, recorder):
    from rq.suspension import resume, suspend

    proc = start_worker_process(redis_server.url, "--customq", "webhook", "--worker-class", "async")
    try:
        wait_for(lambda: conn.scard("rq:workers") == 1, timeout=20)
        suspend(conn)
        time.sleep(1.5)  # the claim loop reads the suspension once a second
        job = enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, 0), connection=conn)
        time.sleep(2)
        assert Job.fetch(job.id, connection=conn).get_status() == "queued"
        resume(conn)
        wait_for(lambda: Job.fetch(job.id, connection=conn).get_status() == "finished", timeout=10)
    finally:
        resume(conn)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_an_idle_worker_stops_at_once_on_sigterm(conn, settings, redis_server):
    """The claim loop waits for a wake-up token on the event loop; a warm stop ends that wait."""
    proc = start_worker_process(redis_server.url, "--customq", "webhook", "--worker-class", "async")
    wait_for(lambda: conn.scard("rq:workers") == 1, timeout=20)
    time.sleep(1)
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert time.monotonic() - stopped < 5
    assert conn.scard("rq:workers") == 0


def test_a_job_enqueued_while_idle_is_taken_at_once(conn, settings_factory, recorder):
    """A producer's wake-up token ends the claim loop's wait (no polling delay)."""
    import threading

    settings_factory(POLL_INTERVAL=5)
    worker = FusionAsyncWorker(["webhook"], connection=conn, concurrency=4)
    late = threading.Timer(1.0, lambda: enqueue("webhook", "tasks.webhooks.send_webhook", webhook(recorder, 1),
                                                connection=conn))  # fmt: skip
    late.start()
    started = time.monotonic()
    worker.work(burst=False, max_jobs=1)
    late.join()
    assert 1.0 <= time.monotonic() - started < 4
    assert len(recorder.jobs_sent()) == 1


def test_a_plan_with_no_effect_ends_where_it_starts_with_its_outcome_and_hooks(conn, settings, run_worker):
    """The event-loop class runs a plan up to its first effect as it starts the job; a plan that
    needs none ends there (no task), and its outcome, result and failure are as on a task."""
    done = [enqueue("bench", "tests.jobs.at_once", {"value": n}, connection=conn) for n in range(30)]
    bad = enqueue("bench", "tests.jobs.at_once", {"raise": True}, connection=conn)
    counted = {o: _ended_count("bench", o) for o in ("finished", "failed")}
    in_flight = metrics.REGISTRY.get_sample_value("fusion_jobs_in_flight")
    run_worker(["bench"], cls=FusionAsyncWorker, concurrency=8)
    assert {o: _ended_count("bench", o) - n for o, n in counted.items()} == {"finished": 30, "failed": 1}
    assert metrics.REGISTRY.get_sample_value("fusion_jobs_in_flight") == in_flight  # before and after hooks ran
    assert statuses(conn, done) == {"finished"}
    assert [Job.fetch(j.id, connection=conn).return_value() for j in done] == list(range(30))
    failed = Job.fetch(bad.id, connection=conn)
    assert failed.get_status() == "failed"
    assert "raise" in contract.text(conn.hget(bad.key, "last_failure"))
    assert conn.zcard(contract.CLAIMS) == 0 and not conn.keys("rq:wip:*")


def _ended_count(queue: str, outcome: str) -> float:
    samples = metrics.REGISTRY.collect()
    return sum(
        s.value
        for family in samples
        if family.name == "fusion_jobs"
        for s in family.samples
        if s.name == "fusion_jobs_total" and s.labels["queue"] == queue and s.labels["outcome"] == outcome
    )
