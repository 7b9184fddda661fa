"""The daily maintenance pass: lock, interval, old failed jobs, stale retries."""

from __future__ import annotations

import time

from rq.utils import now, utcformat

from rq_ext import contract, enqueue
from rq_ext.maintenance import run_if_due, run_maintenance


def failed_job(conn, job_id: str, queue: str, ended_ago: float) -> None:
    job = enqueue(queue, "tests.jobs.record", {}, connection=conn, job_id=job_id)
    conn.zrem(contract.queue_key(queue), job.id)
    ended = (
        utcformat(now())
        if ended_ago == 0
        else time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - ended_ago))
    )
    conn.hset(job.key, mapping={"status": "failed", "ended_at": ended})
    conn.zadd(f"rq:failed:{queue}", {job.id: time.time() + 10**6})


def test_old_failed_jobs_are_deleted_recent_kept(conn, settings_factory):
    settings_factory(FAILED_JOB_TTL=3600)
    failed_job(conn, "old", "sms", ended_ago=7200)
    failed_job(conn, "new", "sms", ended_ago=60)
    failed_job(conn, "custom-old", "custom", ended_ago=7200)
    conn.rpush(contract.LEGACY_FAILED_QUEUE, "legacy-gone", "new")
    removed = run_maintenance(conn)
    assert not conn.exists("rq:job:old") and conn.zscore("rq:failed:sms", "old") is None
    assert not conn.exists("rq:job:custom-old")
    assert conn.exists("rq:job:new") and conn.zscore("rq:failed:sms", "new") is not None
    assert conn.lrange(contract.LEGACY_FAILED_QUEUE, 0, -1) == [b"new"]
    assert removed["failed"] == 2 and removed["legacy_failed"] == 1


def test_stale_retry_handed_to_server_is_deleted(conn, settings_factory):
    settings_factory(FAILED_JOB_TTL=3600)
    stale = enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="stale")
    fresh = enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="fresh")
    for job in (stale, fresh):
        conn.zrem("rq:queue:sms", job.id)
        conn.hset(job.key, "status", "scheduled")
    conn.zadd(contract.AWAITING_RETRY, {"stale": time.time() - 7200, "fresh": time.time()})
    run_maintenance(conn)
    assert not conn.exists("rq:job:stale") and conn.exists("rq:job:fresh")


def test_runs_once_per_interval_under_lock(conn, settings_factory):
    settings_factory(MAINTENANCE_INTERVAL=3600)
    assert run_if_due(conn) is True
    assert run_if_due(conn) is False  # not due again yet
    conn.delete(contract.MAINTENANCE_LAST)
    conn.set(contract.MAINTENANCE_LOCK, "another-worker", ex=60)
    assert run_if_due(conn) is False  # someone else holds the lock
    conn.delete(contract.MAINTENANCE_LOCK)
    assert run_if_due(conn) is True


def test_worker_start_runs_maintenance_when_due(conn, settings_factory, run_worker):
    settings_factory(FAILED_JOB_TTL=3600, MAINTENANCE_INTERVAL=1)
    failed_job(conn, "old", "sms", ended_ago=7200)
    from rq_ext.worker import FusionSimpleWorker

    worker = FusionSimpleWorker(["sms"], connection=conn)
    worker.housekeeper.run_once()
    assert not conn.exists("rq:job:old")
    assert conn.get(contract.MAINTENANCE_LAST) is not None
