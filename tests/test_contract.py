"""The job contract: what a producer writes, and the order in which the worker takes it."""

from __future__ import annotations

import time

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from rq_ext.job import FusionJob


def write_stock_job(conn, queue: str, task: dict, priority: float, job_id: str) -> None:
    """Exactly what the server does with stock rq: Job.create + save, then ZADD (no extra fields)."""
    job = Job.create("tests.jobs.record", args=[task], connection=conn, id=job_id, origin=queue)
    job.save()
    conn.zadd(contract.queue_key(queue), {job_id: priority})
    conn.sadd(contract.QUEUES_SET, contract.queue_key(queue))


def test_producer_writes_rq_hash_plus_extra_fields(conn, settings):
    job = enqueue(
        "sms",
        "tests.jobs.record",
        {"name": "a"},
        priority=7,
        success_task_handler="http://s/",
        failed_task_handler="http://f/",
        connection=conn,
    )
    raw = conn.hgetall(contract.job_key(job.id))
    assert raw[b"retryCount"] == b"0"
    assert raw[b"success_task_handler"] == b"http://s/"
    assert raw[b"failed_task_handler"] == b"http://f/"
    assert raw[b"priority"] == b"7"
    assert raw[b"origin"] == b"sms"
    assert conn.zscore("rq:queue:sms", job.id) == 7
    assert conn.sismember("rq:queues", "rq:queue:sms")
    loaded = Job.fetch(job.id, connection=conn)  # stock rq reads it
    assert loaded.func_name == "tests.jobs.record" and loaded.args == [{"name": "a"}]


def test_stock_rq_job_without_extra_fields_runs(conn, settings, run_worker):
    write_stock_job(conn, "sms", {"name": "stock"}, 1, "stock-1")
    run_worker(["sms"])
    job = FusionJob.fetch("stock-1", connection=conn)
    assert job.get_status() == "finished"
    assert job.retry_count == 0 and job.success_task_handler == ""


def test_higher_priority_runs_first(conn, settings, run_worker):
    for name, priority in [("low", 1), ("high", 100), ("mid", 50), ("lowest", -5)]:
        enqueue("sms", "tests.jobs.record", {"name": name}, priority=priority, connection=conn)
    run_worker(["sms"])
    assert conn.lrange("order", 0, -1) == [b"high", b"mid", b"low", b"lowest"]


def test_queues_tried_in_order_given(conn, settings, run_worker):
    enqueue("email", "tests.jobs.record", {"name": "email-top"}, priority=1000, connection=conn)
    enqueue("sms", "tests.jobs.record", {"name": "sms-low"}, priority=1, connection=conn)
    run_worker(["sms", "email"])
    assert conn.lrange("order", 0, -1) == [b"sms-low", b"email-top"]


def test_scheduler_queue_is_fifo(conn, settings, run_worker):
    for name in ["first", "second", "third", "fourth"]:
        enqueue("scheduler", "tests.jobs.record", {"name": name}, priority=0, connection=conn)
    assert conn.type("rq:queue:scheduler") == b"list"
    run_worker(["scheduler"])
    assert conn.lrange("order", 0, -1) == [b"first", b"second", b"third", b"fourth"]


def test_scheduler_accepts_raw_rpush(conn, settings, run_worker):
    for name in ["one", "two", "three"]:
        job = Job.create("tests.jobs.record", args=[{"name": name}], connection=conn, id=name, origin="scheduler")
        job.save()
        conn.rpush("rq:queue:scheduler", name)
    run_worker(["scheduler"])
    assert conn.lrange("order", 0, -1) == [b"one", b"two", b"three"]


def test_due_delayed_job_is_promoted_with_its_priority(conn, settings, run_worker):
    due = enqueue("sms", "tests.jobs.record", {"name": "due"}, priority=42, delay=60, connection=conn)
    conn.zadd(contract.SCHEDULER_SET, {due.id: time.time() - 1})  # now due
    later = enqueue("sms", "tests.jobs.record", {"name": "later"}, priority=5, delay=3600, connection=conn)
    from rq_ext.schedule import promote_due

    assert promote_due(conn) == 1
    assert conn.zscore("rq:queue:sms", due.id) == 42
    assert conn.zscore(contract.SCHEDULER_SET, later.id) is not None


def test_burst_worker_promotes_due_jobs_and_does_not_wait(conn, settings, run_worker):
    due = enqueue("webhook", "tests.jobs.record", {"name": "due"}, priority=3, delay=1, connection=conn)
    conn.zadd(contract.SCHEDULER_SET, {due.id: time.time() - 1})
    enqueue("webhook", "tests.jobs.record", {"name": "later"}, delay=3600, connection=conn)
    started = time.monotonic()
    run_worker(["webhook"])
    assert time.monotonic() - started < 10
    assert conn.lrange("order", 0, -1) == [b"due"]


def test_running_worker_promotes_delayed_job_within_a_second(conn, settings_factory):
    from rq_ext.worker import FusionSimpleWorker

    settings_factory(PROMOTE_INTERVAL=0.2)
    job = enqueue("email", "tests.jobs.record", {"name": "soon"}, priority=9, delay=1, connection=conn)
    worker = FusionSimpleWorker(["sms"], connection=conn)  # serves another queue: still promotes
    deadline = time.time() + 4
    worker.housekeeper.start()
    try:
        while time.time() < deadline and conn.zscore("rq:queue:email", job.id) is None:
            time.sleep(0.05)
    finally:
        worker.housekeeper.stop()
    assert conn.zscore("rq:queue:email", job.id) == 9


def test_delayed_job_for_scheduler_goes_to_the_list(conn, settings):
    from rq_ext.schedule import promote_due

    job = enqueue("scheduler", "tests.jobs.record", {"name": "x"}, delay=1, connection=conn)
    promote_due(conn, when=time.time() + 5)
    assert conn.lrange("rq:queue:scheduler", 0, -1) == [job.id.encode()]


def test_all_excludes_dictionary_and_report(settings):
    names = settings.queue_names("all")
    assert "dictionary" not in names and "report" not in names
    assert names == ["sms", "email", "pn", "webhook", "whatsapp", "scheduler"]
    assert settings.queue_names("sms, email") == ["sms", "email"]
    assert settings.queue_names("report") == ["report"]


def test_all_worker_leaves_report_jobs_alone(conn, settings, run_worker):
    report = enqueue("report", "tests.jobs.record", {"name": "r"}, connection=conn)
    enqueue("sms", "tests.jobs.record", {"name": "s"}, connection=conn)
    run_worker("all")
    assert conn.lrange("order", 0, -1) == [b"s"]
    assert conn.zscore("rq:queue:report", report.id) is not None


def test_orphan_ids_without_hash_are_skipped(conn, settings, run_worker):
    conn.zadd("rq:queue:sms", {"ghost": 99})
    enqueue("sms", "tests.jobs.record", {"name": "real"}, connection=conn)
    run_worker(["sms"])
    assert conn.lrange("order", 0, -1) == [b"real"]
    assert conn.zcard("rq:queue:sms") == 0


def test_producer_description_carries_no_payload(conn, settings):
    task = {"payload": {"task": 1, "to": "+919876543210", "message": "secret"}, "reference": "R-1"}
    job = enqueue("sms", "tasks.sms.send_sms", task, connection=conn)
    assert job.description == "tasks.sms.send_sms(channel=1, reference=R-1)"
    assert b"9876543210" not in conn.hget(job.key, "description")


@pytest.fixture
def run_worker(run_each_worker):
    """Every test here runs with the in-process class (rq's bookkeeping) and the concurrent
    class (the lean path)."""
    return run_each_worker
