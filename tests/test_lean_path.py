"""The concurrent class's lean Redis path: batched claim-and-start, the batched finish, the
deadline thread, and the Redis commands a job costs."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from rq.job import Job
from rq.timeouts import JobTimeoutException

from rq_ext import contract, enqueue
from rq_ext.concurrent import FusionConcurrentWorker
from rq_ext.deadlines import Deadlines
from tests.conftest import worker_runner
from tests.redis_procs import RedisProc

#: Stock rq's commands per no-op job (SimpleWorker, rq 3.0, measured by the benchmark: 57.3).
STOCK_RQ_COMMANDS_PER_JOB = 57


def run_in_steps(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)


def test_a_deadline_interrupts_only_its_own_thread():
    deadlines = Deadlines()
    outcome: dict[str, str] = {}

    def job(name: str, limit: float, runs: float) -> None:
        try:
            with deadlines.limit(limit, name):
                run_in_steps(runs)
            outcome[name] = "done"
        except JobTimeoutException as exc:
            outcome[name] = str(exc)

    threads = [threading.Thread(target=job, args=a) for a in [("slow", 0.2, 3.0), ("quick", 5.0, 0.5)]]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadlines.stop()
    assert "maximum timeout value (0.2 seconds)" in outcome["slow"]
    assert outcome["quick"] == "done"
    assert time.monotonic() - started < 2.5


def test_a_disarmed_deadline_never_fires_later():
    deadlines = Deadlines()
    with deadlines.limit(0.05, "j"):
        pass
    run_in_steps(0.2)  # would raise here if the deadline had stayed armed
    deadlines.stop()


@pytest.mark.parametrize("ttl", [0, -1, 30])
def test_finish_honours_the_result_ttl(conn, settings, run_worker, ttl):
    job = enqueue("sms", "tests.jobs.record", {"name": "t"}, connection=conn)
    conn.hset(job.key, "result_ttl", ttl)  # rq's own job field
    run_worker(["sms"], cls=FusionConcurrentWorker, concurrency=2)
    finished = conn.zscore("rq:finished:sms", job.id)
    if ttl == 0:
        assert not conn.exists(job.key) and finished is None
    elif ttl < 0:
        assert conn.ttl(job.key) == -1 and finished == float("inf")
        assert Job.fetch(job.id, connection=conn).get_status() == "finished"
    else:
        assert 0 < conn.ttl(job.key) <= ttl and finished is not None
    assert conn.get(f"runs:{job.id}") == b"1"
    assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:wip:sms") == 0


def test_a_job_costs_under_a_quarter_of_stock_rqs_redis_commands(tmp_path, settings_factory):
    """Counted by Redis itself (INFO commandstats counts the commands scripts run, too), on a
    Redis of its own: nothing else the suite left running is counted."""
    server = RedisProc(tmp_path / "count").start()
    settings_factory(REDIS_URL=f"redis://127.0.0.1:{server.port}/0")
    conn = redis.Redis(port=server.port)
    try:
        _count_commands(conn)
    finally:
        server.stop()


def _count_commands(conn) -> None:
    """The commands of a run of 200 jobs and of a run of 600: their difference is what 400 jobs
    cost, the worker's start, stop and idle polling left out."""
    # The daily maintenance (due on a fresh Redis: registries, every job key for orphans) is not
    # a job's cost: it ran a moment ago, as it would have on a live system.
    conn.set(contract.MAINTENANCE_LAST, time.time())
    runs = [_one_run(conn, count) for count in (200, 600)]
    (small, small_s, small_by), (large, large_s, large_by) = runs
    per_job = (large - small) / 400
    detail = (
        f"{small} commands for 200 jobs in {small_s:.2f}s, {large} for 600 in {large_s:.2f}s; per job: "
        + ", ".join(
            f"{name} {(large_by.get(name, 0) - small_by.get(name, 0)) / 400:.2f}"
            for name in sorted(large_by, key=lambda n: small_by.get(n, 0) - large_by[n])
        )
    )
    print(detail)
    assert per_job <= STOCK_RQ_COMMANDS_PER_JOB / 4, detail
    assert small / 200 <= STOCK_RQ_COMMANDS_PER_JOB / 2, detail  # start and stop included


def _one_run(conn, count: int) -> tuple[int, float, dict[str, int]]:
    jobs = [enqueue("sms", "tests.jobs.noop", {}, connection=conn) for _ in range(count)]
    conn.config_resetstat()
    started = time.monotonic()
    # 32 slots: claims and finishes come in batches even on a loaded machine (one job per batch
    # costs 7 + 14 commands; the figure under load is what this test is about).
    worker_runner(conn, FusionConcurrentWorker)(["sms"], concurrency=32)
    elapsed = time.monotonic() - started
    stats = conn.info("commandstats")
    by_command = {k[8:]: v["calls"] for k, v in stats.items() if k not in ("cmdstat_config", "cmdstat_info")}
    assert all(Job.fetch(j.id, connection=conn).get_status() == "finished" for j in jobs)
    return sum(by_command.values()), elapsed, by_command


def test_claimed_jobs_are_started_in_the_claim(conn, settings, run_worker):
    """Status, started_at, worker and the rq:wip entry are written by the claim script itself."""
    job = enqueue("sms", "tests.jobs.record", {"name": "seen", "sleep": 0.5}, connection=conn)
    seen: dict[str, object] = {}

    def watch() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not seen:
            if conn.hget(job.key, "status") == b"started":
                seen["wip"] = [m.decode() for m in conn.zrange("rq:wip:sms", 0, -1)]
                seen["worker"] = conn.hget(job.key, "worker_name")
                seen["claimed"] = conn.zscore(contract.CLAIMS, job.id)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    worker = run_worker(["sms"], cls=FusionConcurrentWorker, concurrency=2)
    watcher.join()
    assert seen["worker"] == worker.name.encode() and seen["claimed"] is not None
    assert [m.split(":")[0] for m in seen["wip"]] == [job.id]  # type: ignore[union-attr]


def test_the_gather_window_grows_with_the_concurrency_and_is_capped():
    from rq_ext.concurrent import GATHER, GATHER_MAX, gather_window

    assert gather_window(1) == gather_window(64) == GATHER
    assert GATHER < gather_window(256) < gather_window(512) <= GATHER_MAX
    assert gather_window(100_000) == GATHER_MAX


def test_the_event_loop_claims_sooner_for_plans_that_wait_on_io():
    from rq_ext.concurrent import GATHER, gather_window
    from rq_ext.loop_claim import GATHER_SHARE, HELD_IO, gather_for

    assert gather_for(64, 0.0) == (8, GATHER)  # short plans (or none yet): as the concurrent class
    assert gather_for(512, HELD_IO / 2) == (64, gather_window(512))
    enough, window = gather_for(64, 0.05)  # webhooks of 50 ms
    assert enough == 2 and window == pytest.approx(GATHER_SHARE * 0.05) and window < GATHER
    assert gather_for(16, 0.05)[0] == 1
    assert gather_for(512, 10.0) == (16, gather_window(512))  # never longer than the cap
