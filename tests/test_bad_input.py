"""Bad input fails that job with a readable reason (failed registry + failure callback); the
worker goes on with the next job."""

from __future__ import annotations

import os
import pickle
import zlib

import pytest
from rq.job import Job

from rq_ext import contract, enqueue


def write_raw(conn, job_id: str, queue: str = "sms", **fields) -> None:
    base = {"status": "queued", "origin": queue, "created_at": "2026-01-01T00:00:00.000000Z"}
    base.update(fields)
    conn.hset(contract.job_key(job_id), mapping=base)
    conn.zadd(contract.queue_key(queue), {job_id: 100})


def data_for(func: str, *args) -> bytes:
    return zlib.compress(pickle.dumps((func, None, list(args), {})))


@pytest.fixture
def failed_callback(httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    return httpserver.url_for("/failed")


def reasons(httpserver) -> dict[str, str]:
    return {r.form["job_id"]: r.form["failure_trace"] for r, _ in httpserver.log if r.path == "/failed"}


CASES = [
    ("no-data", {}, "malformed job hash"),
    ("bad-status", {"status": "exploded", "data": data_for("tests.jobs.record", {})}, "malformed job hash"),
    ("garbage", {"data": b"\x00\x01 not a pickle"}, "could not be decoded"),
    ("empty-data", {"data": b""}, "could not be decoded"),
    ("wrong-shape", {"data": zlib.compress(pickle.dumps(("only", "two")))}, "could not be decoded"),
    ("unknown-func", {"data": data_for("tasks.nowhere.missing", {})}, "nowhere"),
    ("unknown-attr", {"data": data_for("tasks.sms.no_such_function", {})}, "no_such_function"),
    ("not-allowed", {"data": data_for("os.system", "touch /tmp/fusion-pwned")}, "not allowed"),
    ("sneaky", {"data": data_for("tasks.webhooks.re.compile", "x")}, "outside the allowlist"),
    ("not-a-dict", {"data": data_for("tasks.dispatch", "just a string")}, "task must be a dict"),
    ("no-payload", {"data": data_for("tasks.dispatch", {"nothing": 1})}, "no 'payload'"),
    ("bad-channel", {"data": data_for("tasks.dispatch", {"payload": {"task": 9}})}, "channel code"),
    ("no-url", {"data": data_for("tasks.webhooks.send_webhook", {"payload": {"task": 4}})}, "payload.url is missing"),
    (
        "bad-method",
        {
            "data": data_for(
                "tasks.webhooks.send_webhook", {"payload": {"task": 4, "url": "http://127.0.0.1:9/", "method": "BREW"}}
            )
        },
        "method",
    ),
    ("no-args", {"data": data_for("tasks.dispatch")}, "TypeError"),
]


@pytest.mark.parametrize("job_id, fields, reason", CASES, ids=[c[0] for c in CASES])
def test_bad_job_fails_with_reason_and_worker_goes_on(
    conn, settings, run_worker, httpserver, failed_callback, job_id, fields, reason
):
    write_raw(conn, job_id, failed_task_handler=failed_callback, **fields)
    good = enqueue("sms", "tests.jobs.record", {"name": "good"}, priority=1, connection=conn)
    run_worker(["sms"])
    assert reason in reasons(httpserver)[job_id]
    assert conn.zscore("rq:failed:sms", job_id) is not None
    assert conn.hget(contract.job_key(job_id), "status") == b"failed"
    assert Job.fetch(good.id, connection=conn).get_status() == "finished"
    assert conn.zcard(contract.CLAIMS) == 0
    assert not os.path.exists("/tmp/fusion-pwned")


def test_all_bad_jobs_in_one_run(conn, settings, run_worker, httpserver, failed_callback):
    for job_id, fields, _ in CASES:
        write_raw(conn, job_id, failed_task_handler=failed_callback, **fields)
    goods = [enqueue("sms", "tests.jobs.record", {"name": f"g{i}"}, priority=50, connection=conn) for i in range(3)]
    run_worker(["sms"])
    assert set(reasons(httpserver)) == {c[0] for c in CASES}
    assert all(Job.fetch(g.id, connection=conn).get_status() == "finished" for g in goods)


def test_job_hash_with_only_data_fails_into_its_queues_registry(conn, settings, run_worker):
    """A server may write nothing but ``data``: the claim supplies the origin."""
    conn.hset(contract.job_key("bare"), mapping={"data": data_for("tasks.dispatch", {"payload": {"task": 1}})})
    conn.zadd(contract.queue_key("sms"), {"bare": 0})
    run_worker(["sms"])
    assert conn.zscore("rq:failed:sms", "bare") is not None
    assert b"gateway" in (conn.hget(contract.job_key("bare"), "exc_info") or b"") or conn.exists("rq:results:bare")


def test_garbage_retry_count_defaults_to_zero(conn, settings, run_worker):
    job = enqueue("sms", "tests.jobs.record", {"name": "x"}, connection=conn)
    conn.hset(job.key, "retryCount", "not-a-number")
    run_worker(["sms"])
    assert Job.fetch(job.id, connection=conn).get_status() == "finished"


def test_wrong_key_type_for_queue_does_not_stop_worker(conn, settings, run_worker):
    conn.set("rq:queue:sms", "oops, a string")
    good = enqueue("email", "tests.jobs.record", {"name": "ok"}, connection=conn)
    run_worker(["sms", "email"])
    assert Job.fetch(good.id, connection=conn).get_status() == "finished"


@pytest.fixture
def run_worker(run_each_worker):
    """Every test here runs with the in-process class (rq's bookkeeping) and the concurrent
    class (the lean path)."""
    return run_each_worker
