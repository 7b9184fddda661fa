"""No field loses a job on any path: the claim, the retry, promotion and recovery each read
``retryCount``, ``priority``, ``timeout``, ``origin`` and the task defensively; a job either
takes the documented default or fails with a reason that names the field, and the worker goes on
with the next job."""

from __future__ import annotations

import pickle
import threading
import time
import zlib

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from rq_ext.recovery import recover_abandoned
from rq_ext.schedule import promote_due
from tests.fault_servers import Recorder


def status(conn, job_id: str) -> str:
    return (conn.hget(contract.job_key(job_id), "status") or b"").decode()


def reason(conn, job_id: str) -> str:
    return (conn.hget(contract.job_key(job_id), "exc_info") or b"").decode()


@pytest.fixture
def receiver():
    server = Recorder()
    yield server
    server.stop()


def test_non_numeric_retry_count_retries_from_zero(conn, settings, run_each_worker):
    enqueue("sms", "tests.jobs.transient", {}, connection=conn, job_id="rc")
    enqueue("sms", "tests.jobs.record", {"name": "next"}, connection=conn, job_id="ok", priority=-1)
    conn.hset(contract.job_key("rc"), contract.RETRY_COUNT, "abc")
    run_each_worker(["sms"])
    assert status(conn, "rc") == "scheduled"
    assert conn.hget(contract.job_key("rc"), contract.RETRY_COUNT) == b"1"
    assert conn.zscore(contract.SCHEDULER_SET, "rc") is not None
    assert status(conn, "ok") == "finished"


def _deep_task_pickle(func: str, depth: int) -> bytes:
    """rq's job data for ``func(task)`` whose task nests lists ``depth`` deep: unpickling is not
    recursive, so such data loads, but nothing recursive (JSON) can write it back."""
    marker = "ZZ-DEEP-ZZ"
    data = pickle.dumps((func, None, [{"deep": marker}], {}), protocol=2)
    pickled_marker = b"X" + len(marker).to_bytes(4, "little") + marker.encode()
    deep = b"]" * depth + b"a" * (depth - 1)
    assert data.count(pickled_marker) == 1
    return zlib.compress(data.replace(pickled_marker, deep))


def test_task_that_cannot_be_json_fails_with_a_reason_at_the_retry(conn, settings_factory, run_each_worker, receiver):
    settings_factory(FUSION_SERVER=receiver.url)
    job = enqueue("sms", "tests.jobs.transient", {}, connection=conn, job_id="deep",
                  failed_task_handler=receiver.url + "/failed")  # fmt: skip
    conn.hset(job.key, "data", _deep_task_pickle("tests.jobs.transient", 5000))
    enqueue("sms", "tests.jobs.record", {"name": "next"}, connection=conn, job_id="ok", priority=-1)
    run_each_worker(["sms"])
    assert status(conn, "deep") == "failed"
    assert conn.zscore("rq:failed:sms", "deep") is not None
    (callback,) = receiver.callbacks()
    assert "not serialisable as JSON" in callback["failure_trace"]
    assert not receiver.handovers()
    assert status(conn, "ok") == "finished"


@pytest.mark.parametrize("priority", ["nan", "inf", "-inf", "abc", ""])
def test_delayed_job_with_a_non_finite_priority_is_promoted_with_priority_0(conn, settings, priority):
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="p", delay=60)
    conn.hset(contract.job_key("p"), contract.PRIORITY, priority)
    assert promote_due(conn, when=time.time() + 120) == 1
    assert conn.zscore("rq:queue:sms", "p") == 0
    assert conn.zscore(contract.SCHEDULER_SET, "p") is None
    assert status(conn, "p") == "queued"


def test_delayed_job_whose_queue_key_has_another_type_fails_not_vanishes(conn, settings):
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="wt", delay=60)
    conn.hset("rq:queue:sms", "oops", "a hash")
    promote_due(conn, when=time.time() + 120)
    assert status(conn, "wt") == "failed"
    assert "'rq:queue:sms' is not a priority queue" in reason(conn, "wt")
    assert conn.zscore(contract.SCHEDULER_SET, "wt") is None
    assert conn.zscore("rq:failed:sms", "wt") is not None


def test_delayed_job_with_no_origin_fails_naming_the_field(conn, settings):
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="no", delay=60)
    conn.hdel(contract.job_key("no"), "origin")
    promote_due(conn, when=time.time() + 120)
    assert status(conn, "no") == "failed" and "field 'origin'" in reason(conn, "no")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timeout", "abc", "field 'timeout' is str 'abc'"),
        ("status", "bogus", "field 'status' is str 'bogus'"),
        ("result_ttl", "1.5x", "field 'result_ttl' is str '1.5x'"),
        ("created_at", "yesterday", "field 'created_at' is str 'yesterday'"),
    ],
)
def test_malformed_rq_field_fails_at_the_claim_naming_field_and_type(conn, settings, run_each_worker, field, value,
                                                                       words):  # fmt: skip
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="bad")
    enqueue("sms", "tests.jobs.record", {"name": "next"}, connection=conn, job_id="ok", priority=-1)
    conn.hset(contract.job_key("bad"), field, value)
    run_each_worker(["sms"])
    assert status(conn, "bad") == "failed" and words in reason(conn, "bad"), reason(conn, "bad")
    assert "AssertionError" not in reason(conn, "bad")
    assert status(conn, "ok") == "finished"


def test_recovered_job_with_no_origin_fails_naming_the_field(conn, settings):
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="ro")
    conn.zrem("rq:queue:sms", "ro")
    conn.hset(contract.job_key("ro"), mapping={"status": "started", "origin": ""})
    conn.zadd(contract.CLAIMS, {"ro": time.time() - 1})
    assert recover_abandoned(conn) == 0
    assert status(conn, "ro") == "failed" and "field 'origin'" in reason(conn, "ro")
    assert conn.zscore(contract.CLAIMS, "ro") is None


def test_the_claim_does_no_http_a_slow_callback_receiver_stalls_nothing(conn, settings_factory, run_each_worker,
                                                                          receiver):  # fmt: skip
    settings_factory(CALLBACK_TIMEOUT=1)
    receiver.hold = threading.Event()  # the failure callback's receiver never answers in time
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="bad",
            failed_task_handler=receiver.url + "/failed")  # fmt: skip
    conn.hset(contract.job_key("bad"), "data", b"\x00 not a pickle")
    enqueue("sms", "tests.jobs.record", {"name": "next"}, connection=conn, job_id="ok", priority=-1)
    started = time.monotonic()
    finished_at: list[float] = []

    def watch() -> None:
        while time.monotonic() - started < 20 and not finished_at:
            if status(conn, "ok") == "finished":
                finished_at.append(time.monotonic() - started)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    run_each_worker(["sms"])
    watcher.join()
    receiver.hold.set()
    assert status(conn, "bad") == "failed" and "could not be decoded" in reason(conn, "bad")
    assert finished_at and finished_at[0] < 1.0, "the good job waited for the callback"
    assert Job.fetch("ok", connection=conn).get_status() == "finished"
